// The layering as rules: `npm test` runs these (test/architecture.test.ts) on src/ and tools/.
// Type-only imports count too: a layer that names another's types depends on it.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'No import cycles: every layer depends only on layers below it.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'backends-not-into-checkout',
      severity: 'error',
      comment: 'Backends speak to providers; the checkout engine uses them, never the other way.',
      from: { path: '^src/backends/' },
      to: { path: '^src/checkout/' },
    },
    {
      name: 'server-not-into-tools',
      severity: 'error',
      comment: 'createServer takes its tools from its caller.',
      from: { path: '^src/server/' },
      to: { path: '^tools/' },
    },
    {
      name: 'tools-only-the-tool-definition',
      severity: 'error',
      comment: 'A tool file imports the small tool-definition module and nothing else of src/ (never the server).',
      from: { path: '^tools/' },
      to: { path: '^src/', pathNot: '^src/tool-definition\\.ts$' },
    },
    {
      name: 'tool-definition-not-into-server',
      severity: 'error',
      comment: 'The tool-definition module imports no server code.',
      from: { path: '^src/tool-definition\\.ts$' },
      to: { path: '^(src/server|src/transports|src/cli)/' },
    },
    {
      name: 'server-not-into-operator',
      severity: 'error',
      comment: 'What operators run sits beside the server, not under it.',
      from: { path: '^src/server/' },
      to: { path: '^src/operator/' },
    },
    {
      name: 'product-free-of-test-rigs',
      severity: 'error',
      comment: 'Only the CLI reaches the benchmark and the chaos rig.',
      from: { path: '^(src|tools)/', pathNot: '^src/(cli|bench|chaos)/' },
      to: { path: '^src/(bench|chaos)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|test)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
