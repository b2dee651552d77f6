"""Open311 GeoReport v2 at /open311/v2/ driven by two off-the-shelf client libraries from PyPI:

- civicbot 0.4.0 (civicbot.open311.Open311Client): lists services, reads a service definition,
  posts a service request (form-encoded, api_key) and reads it back, lists requests by filter;
- georeport 0.3.1 (georeport.GeoReport): reads the service list and requests in JSON and XML
  (its XML path parses with xmltodict, so the XML must be well-formed and shaped as the spec says).

Usage: python clients.py BASE_URL INTAKE_TOKEN   (run by scripts/test-open311)
"""
import sys

from civicbot.http import HttpTransport, RateLimiter
from civicbot.open311 import Open311Client
from civicbot.registry import Endpoint
from georeport import GeoReport

base, key = sys.argv[1].rstrip("/"), sys.argv[2]
root = f"{base}/open311/v2"
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


# A point inside the demo district: the centre of a block taken from the lookup API.
import json
import urllib.request

cfg = json.load(urllib.request.urlopen(f"{base}/api/v1/config"))
w, s, e, n = cfg["bbox"]
lon, lat = cfg.get("center", [(w + e) / 2, (s + n) / 2])
placement = json.load(urllib.request.urlopen(f"{base}/api/v1/lookup?lon={lon}&lat={lat}"))
check(placement["district"] is not None, f"the demo district's centre ({lon:.5f}, {lat:.5f}) is inside it")

endpoint = Endpoint(id="gridatlas", name="gridatlas demo (金山区)", base_url=root, write=True,
                    api_key_required_for_write=True)
client = Open311Client(endpoint, transport=HttpTransport(rate_limiter=RateLimiter(min_interval=0.0)),
                       jurisdiction_id="310116")

services = client.list_services()
codes = [str(x["service_code"]) for x in services]
check(len(services) > 0 and "SG0101" in codes, f"civicbot lists {len(services)} services, SG0101 among them")
definition = client.get_service_definition("SG0101")
check(definition.get("service_code") == "SG0101", "civicbot reads the service definition of SG0101")

prepared = client.create_request(
    "SG0101", dry_run=False, confirm="SEND", api_key=key, validate_remote=True,
    lat=lat, lng=lon, description="civicbot: 路口有人无证设摊", email="tester@example.org")
resp = prepared.response
check(isinstance(resp, list) and resp and resp[0].get("service_request_id"),
      f"civicbot posts a service request: {resp}")
rid = str(resp[0]["service_request_id"])
got = client.get_request(rid)
check(got is not None and str(got.get("service_request_id")) == rid and got.get("status") == "open",
      f"civicbot reads request {rid} back (status {got and got.get('status')})")
check(got is not None and got.get("agency_responsible") == (placement["grid"] or {}).get("name"),
      f"request {rid} is with the grid that owns the place: {got and got.get('agency_responsible')}")
listed = client.list_requests(service_code="SG0101", status="open")
check(any(str(r["service_request_id"]) == rid for r in listed), "civicbot finds it among open SG0101 requests")
check("tester@example.org" not in json.dumps(listed), "the reporter's e-mail is not shown")

for fmt in ("json", "xml"):
    gr = GeoReport(root, jurisdiction="310116", output_format=fmt)
    svc = gr.get_service_list()
    check(isinstance(svc, list) and any(x["service_code"] == "RG0101" for x in svc),
          f"georeport ({fmt}) reads the service list")
    reqs = gr.get_service_requests(service_request_id=rid)
    if fmt == "xml":
        # xmltodict gives a dict for a single <request>
        reqs = reqs if isinstance(reqs, list) else [reqs]
    check(any(str(r["service_request_id"]) == rid for r in reqs), f"georeport ({fmt}) reads request {rid}")

if failures:
    print(f"{len(failures)} Open311 client check(s) failed")
    sys.exit(1)
print("all Open311 client checks passed")
