/**
 * Import rules that `npm test` checks (`npm run lint`), on the compiled library in dist/: type-only
 * imports are gone from it, so what is checked is what runs. dependency-cruiser rather than madge:
 * madge 8 needs TypeScript 5's compiler API for .ts files, and this repo builds with TypeScript 7.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A module that imports itself through others: move the shared part out, or depend on an interface.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'store-knows-no-engine',
      severity: 'error',
      comment: 'Stores persist plain records: they import no engine module (STYLE.md section 1).',
      from: { path: '^dist/store/' },
      to: { path: '^dist/engine/' },
    },
    {
      name: 'model-knows-no-engine',
      severity: 'error',
      comment: 'The model reaches the engine only through its port (model/engine-port.ts).',
      from: { path: '^dist/model/' },
      to: { path: '^dist/engine/', dependencyTypes: ['local'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.(map|d\\.ts)$' },
  },
};
