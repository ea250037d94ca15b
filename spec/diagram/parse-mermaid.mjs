// Parses Mermaid diagrams (a JSON array on stdin) with Mermaid's own parser, in a DOM from jsdom;
// prints one line per diagram: OK <type> or FAIL <message>. Run in a child process by the spec,
// so that jsdom's globals stay out of the test process.
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
globalThis.DOMParser = dom.window.DOMParser;
globalThis.Element = dom.window.Element;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false });

let input = '';
for await (const chunk of process.stdin) input += chunk;
for (const text of JSON.parse(input)) {
  try {
    const parsed = await mermaid.parse(text);
    console.log(`OK ${parsed.diagramType}`);
  } catch (err) {
    console.log(`FAIL ${String(err.message).replace(/\n/g, ' ')}`);
  }
}
