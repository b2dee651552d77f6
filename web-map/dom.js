// Small DOM helpers shared by the portal's desk and the phone page.

/** `el('button', {type: 'button', dataset: {id: '7'}}, 'text', child)`: an element with its
 * properties (attributes where the DOM has no writable property: `list`, `role`) and children. */
export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k in e && k !== 'list' && k !== 'role') e[k] = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}
