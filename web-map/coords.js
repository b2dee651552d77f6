// Coordinates as people paste them: "121.164809,30.890424" from a coordinate picker, with
// full-width digits and punctuation (１２１．１６４８０９，３０．８９０４２４), or in degrees,
// minutes and seconds (121°9'53.3"E 30°53'25.5"N, 东经121度9分53.3秒). Pure functions: no DOM.

/** Full-width ASCII forms (U+FF01–U+FF5E) and the ideographic space and comma as ASCII. */
export function foldWidth(s) {
  return String(s ?? '')
    .replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFEE0))
    .replace(/\u3000/g, ' ')
    .replace(/[、，]/g, ',');
}

// one angle: decimal degrees or degrees [minutes [seconds]], with an optional hemisphere letter
// (or 东经/西经/北纬/南纬) before or after
const HEMI = { e: 'lon', w: 'lon', n: 'lat', s: 'lat', 东经: 'lon', 西经: 'lon', 北纬: 'lat', 南纬: 'lat' };
const NEG = new Set(['w', 's', '西经', '南纬']);
const ANGLE = new RegExp(
  '^(东经|西经|北纬|南纬|[NSEWnsew])?\\s*' +
  '([+-]?\\d+(?:\\.\\d+)?)\\s*(?:°|度|º|˚|d(?![a-z]))?\\s*' +
  '(?:(\\d+(?:\\.\\d+)?)\\s*(?:[\'′’]|分|m(?![a-z]))\\s*)?' +
  '(?:(\\d+(?:\\.\\d+)?)\\s*(?:["″”]|\'\'|′′|秒|s(?![a-z]))\\s*)?' +
  '(东经|西经|北纬|南纬|[NSEWnsew])?$',
);

/**
 * One angle in decimal degrees with the axis its hemisphere names (`lon`, `lat` or null), or
 * null when `text` is not an angle (minutes or seconds of 60 or more, two hemispheres).
 */
export function parseAngle(text) {
  const s = foldWidth(text).trim();
  const m = ANGLE.exec(s);
  if (!m) return null;
  const [, pre, deg, min, sec, post] = m;
  if (pre && post) return null;
  const h = (pre || post || '').toLowerCase();
  const mm = min != null ? Number(min) : 0;
  const ss = sec != null ? Number(sec) : 0;
  if (mm >= 60 || ss >= 60) return null;
  // minutes or seconds go with whole degrees only
  if ((min != null || sec != null) && !/^[+-]?\d+$/.test(deg)) return null;
  let v = Math.abs(Number(deg)) + mm / 60 + ss / 3600;
  if (deg.startsWith('-') || NEG.has(h)) v = -v;
  if (!Number.isFinite(v)) return null;
  return { value: v, axis: HEMI[h] ?? null };
}

/**
 * A point in `text`: two angles separated by a comma, semicolon or white space (longitude first
 * unless hemispheres say otherwise; a first value within ±90 and a second beyond it are read as
 * latitude, longitude). Returns `{ lon, lat }`, or null when `text` is not a point or is out of range.
 */
export function parsePoint(text) {
  const s = foldWidth(text).trim();
  if (!s) return null;
  let parts = s.split(/\s*[,;]\s*/);
  if (parts.length !== 2) {
    // "121°9'53.3"E 30°53'25.5"N" or "121.16 30.89": split at the white space between two angles
    const ws = [...s.matchAll(/\s+/g)];
    parts = null;
    for (const w of ws) {
      const a = s.slice(0, w.index), b = s.slice(w.index + w[0].length);
      if (parseAngle(a) && parseAngle(b)) { parts = [a, b]; break; }
    }
    if (!parts) return null;
  }
  const a = parseAngle(parts[0]);
  const b = parseAngle(parts[1]);
  if (!a || !b) return null;
  let lon, lat;
  if (a.axis && b.axis) {
    if (a.axis === b.axis) return null;
    [lon, lat] = a.axis === 'lon' ? [a.value, b.value] : [b.value, a.value];
  } else if (a.axis === 'lat' || b.axis === 'lon') {
    [lat, lon] = [a.value, b.value];
  } else if (a.axis === 'lon' || b.axis === 'lat') {
    [lon, lat] = [a.value, b.value];
  } else if (Math.abs(a.value) <= 90 && Math.abs(b.value) > 90) {
    [lat, lon] = [a.value, b.value];
  } else {
    [lon, lat] = [a.value, b.value];
  }
  if (Math.abs(lon) > 180 || Math.abs(lat) > 90) return null;
  return { lon, lat };
}
