// Starts Verdaccio with the config file named by the first argument, on 127.0.0.1 at a port
// the system picks, and prints `verdaccio listening on <port>` once it accepts connections
// (e2e/src/registry.test.ts waits for that line). Runs until it is killed.
import { runServer } from "verdaccio";

const server = await runServer(process.argv[2]);
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`verdaccio listening on ${server.address().port}\n`);
});
