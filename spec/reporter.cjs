// Mocha's spec reporter, plus a plain closing line ("N passed, N failed, N skipped") that CI
// systems read without knowing mocha.
const Mocha = require('mocha');

class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const s = runner.stats ?? {};
      process.stdout.write(`\n${s.passes ?? 0} passed, ${s.failures ?? 0} failed, ${s.pending ?? 0} skipped\n`);
      const notRun = globalThis.__vastflowNotRun ?? [];
      if (notRun.length > 0) {
        const bar = '!'.repeat(78);
        const list = notRun.map((t) => `!!   - ${t}`).join('\n');
        process.stdout.write(
          `\n${bar}\n!! NOT RUN: ${notRun.length} PostgreSQL spec groups, for want of env VASTFLOW_PG_URL\n${list}\n!! Set VASTFLOW_PG_URL=postgres://postgres@127.0.0.1:5432/postgres (as .ci/run does) to run them.\n${bar}\n`,
        );
      }
    });
  }
}

module.exports = SpecWithSummary;
