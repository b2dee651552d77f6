//! The JSON shapes of Open311 GeoReport v2 (`/open311/v2/…`). (Filled in below as typed.)
