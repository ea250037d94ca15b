// A tiny element builder: h('a', { href: '#/' }, 'text') for HTML, svg('rect', { … }) for SVG.

type Child = Node | string | number | false | null | undefined;
type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

const SVG_NS = 'http://www.w3.org/2000/svg';

function fill<E extends Element>(el: E, attrs: Attrs, children: Child[]): E {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === false || c === null || c === undefined) continue;
    el.append(typeof c === 'object' ? c : String(c));
  }
  return el;
}

/** An HTML element; attributes named `on…` with a function value become listeners. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  return fill(document.createElement(tag), attrs, children);
}

/** An SVG element. */
export function svg(tag: string, attrs: Attrs = {}, ...children: Child[]): SVGElement {
  return fill(document.createElementNS(SVG_NS, tag) as SVGElement, attrs, children);
}

/**
 * Text from a flow (a message, a requestId, a name) isolated from what stands around it, so
 * that bidi controls in it (U+202E) cannot reorder the page's own words.
 */
export function bdi(text: string): HTMLElement {
  return h('bdi', {}, text);
}

/** Replaces the children of `el`. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  fill(el, {}, children);
}
