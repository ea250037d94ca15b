// The admin server of an engine: the JSON API, server-sent events and the web UI on one port.
// Run: VF_TOKEN=s3cret tsx example/admin.ts, then `npx vastflow list --url http://127.0.0.1:7411`.
import { Andes, Engine, Headwaters, River } from 'vastflow';

class Greet extends River {
  async flow(hw: Headwaters) {
    hw.put('greeting', `hello ${hw.getString('name')}`);
  }
}

const engine = await Engine.open({
  store: process.env.VASTFLOW_DB ?? 'memory',
  classes: [Greet],
  retention: '30d', // ended flows older than 30 days are purged in the background
});
const admin = await engine.serve({ port: Number(process.env.PORT ?? 7411), host: '127.0.0.1', token: process.env.VF_TOKEN });
console.log(`admin server on ${admin.url}`);

const run = await new Andes(engine).drawHeadwaters(new Headwaters('greet-1').put('name', 'ops')).drawStream(new Greet()).start();
await run.result();

const res = await fetch(`${admin.url}/api/flows/greet-1`, { headers: { authorization: `Bearer ${process.env.VF_TOKEN}` } });
const flow = (await res.json()) as { requestId: string; status: string };
console.log(`flow ${flow.requestId}: ${flow.status}`);

// remove ended flows by hand too: here, those that failed more than a week ago
await engine.purge({ before: Date.now() - 7 * 86_400_000, status: 'fail' });

if (process.env.KEEP_SERVING !== '1') await engine.close(); // closes the admin server too
