/**
 * How a wrong argument is named in an E_INVALID_ARGUMENT message: `null`, `a number (42)`,
 * `a string ("")`, `an object`, `an array`, `an instance of Headwaters`, `the class R`.
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'string':
      return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
    case 'number':
    case 'boolean':
      return `a ${typeof value} (${String(value)})`;
    case 'bigint':
      return 'a bigint';
    case 'symbol':
      return 'a symbol';
    case 'function':
      // a class is written `class X {}`; its source says so, a function's does not
      if (/^class\b/.test(Function.prototype.toString.call(value))) return value.name === '' ? 'an anonymous class' : `the class ${value.name}`;
      return value.name === '' ? 'a function' : `a function (${value.name})`;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null;
  if (proto === null || proto === Object.prototype) return 'an object';
  const name = proto.constructor?.name;
  return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object';
}

/** `text` in double quotes for a message, cut after `max` characters (and its length said) when longer. */
export function quoted(text: string, max = 120): string {
  if (text.length <= max) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, max))}… (${text.length} characters)`;
}
