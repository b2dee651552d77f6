// issue 20: coordinates as people paste them (coords.js, used by the map's search box and its
// coordinate fields): decimal, full-width, degrees-minutes-seconds, either order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePoint, parseAngle, foldWidth } from '../coords.js';

const near = (a, b, eps = 1e-6) => Math.abs(a - b) < eps;
const assertPoint = (text, lon, lat) => {
  const p = parsePoint(text);
  assert.ok(p, `${text} is a point`);
  assert.ok(near(p.lon, lon) && near(p.lat, lat), `${text} → ${JSON.stringify(p)}, expected ${lon},${lat}`);
};

test('a point from a coordinate picker, in every way it gets pasted', () => {
  assertPoint('121.164809,30.890424', 121.164809, 30.890424);
  assertPoint(' 121.164809, 30.890424 ', 121.164809, 30.890424);
  assertPoint('121.164809 30.890424', 121.164809, 30.890424);
  assertPoint('121.164809;30.890424', 121.164809, 30.890424);
  assertPoint('１２１．１６４８０９，３０．８９０４２４', 121.164809, 30.890424);
  assertPoint('121.164809，30.890424', 121.164809, 30.890424);
  // latitude first, recognised by range
  assertPoint('30.890424,121.164809', 121.164809, 30.890424);
  // degrees, minutes, seconds with hemispheres, in either order, with ASCII or typographic marks
  const dmsLon = 121 + 9 / 60 + 53.3 / 3600, dmsLat = 30 + 53 / 60 + 25.5 / 3600;
  assertPoint(`121°9'53.3"E 30°53'25.5"N`, dmsLon, dmsLat);
  assertPoint(`30°53'25.5"N, 121°9'53.3"E`, dmsLon, dmsLat);
  assertPoint('121°9′53.3″E,30°53′25.5″N', dmsLon, dmsLat);
  assertPoint('E121°9\'53.3" N30°53\'25.5"', dmsLon, dmsLat);
  assertPoint('东经121度9分53.3秒，北纬30度53分25.5秒', dmsLon, dmsLat);
  assertPoint('１２１°９′５３．３″Ｅ　３０°５３′２５．５″Ｎ', dmsLon, dmsLat);
  assertPoint(`74°0'21.5"W 40°42'46"N`, -(74 + 0 / 60 + 21.5 / 3600), 40 + 42 / 60 + 46 / 3600);
});

test('what is not a point is refused', () => {
  for (const bad of ['', '东林 7', '310116101001', '121.1', '121.16,30.89,5', '200,30', '121,95', `121°60'0"E 30°0'0"N`,
    `121°9'53"E 30°53'25"E`, 'zhujing', '101001', 'B07', 'N30 S30']) {
    assert.equal(parsePoint(bad), null, bad);
  }
});

test('one angle for the coordinate fields: decimal, full-width, DMS, with its axis', () => {
  assert.deepEqual(parseAngle('121.5'), { value: 121.5, axis: null });
  assert.deepEqual(parseAngle('１２１．５'), { value: 121.5, axis: null });
  assert.ok(near(parseAngle(`121°9'53.3"E`).value, 121 + 9 / 60 + 53.3 / 3600));
  assert.equal(parseAngle(`30°53'25.5"N`).axis, 'lat');
  assert.equal(parseAngle('30.5S').value, -30.5);
  assert.equal(parseAngle('abc'), null);
  assert.equal(foldWidth('ＡＢＣ１２３　，'), 'ABC123 ,');
});

test('property: every DMS rendering of a random point reads back within 0.05″', () => {
  let seed = 20;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 500; i++) {
    const lon = (rnd() * 2 - 1) * 179.99, lat = (rnd() * 2 - 1) * 89.99;
    const dms = (v, pos, neg) => {
      // in hundredths of a second, so that rounding never writes 60.00″
      const h = Math.round(Math.abs(v) * 360000);
      const d = Math.floor(h / 360000), m = Math.floor((h % 360000) / 6000), s = (h % 6000) / 100;
      return `${d}°${m}'${s.toFixed(2)}"${v < 0 ? neg : pos}`;
    };
    const text = rnd() < 0.5 ? `${dms(lon, 'E', 'W')} ${dms(lat, 'N', 'S')}` : `${dms(lat, 'N', 'S')}, ${dms(lon, 'E', 'W')}`;
    const p = parsePoint(text);
    assert.ok(p, text);
    assert.ok(near(p.lon, lon, 0.05 / 3600) && near(p.lat, lat, 0.05 / 3600), `${text} → ${JSON.stringify(p)} vs ${lon},${lat}`);
    // decimal, comma-separated, in full width
    const wide = foldWidthInverse(`${lon.toFixed(6)},${lat.toFixed(6)}`);
    const q = parsePoint(wide);
    assert.ok(q && near(q.lon, Number(lon.toFixed(6))) && near(q.lat, Number(lat.toFixed(6))), wide);
  }
});

function foldWidthInverse(s) {
  return s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xFEE0));
}
