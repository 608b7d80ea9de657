// bench/lib/delay-proxy.mjs — a TCP relay that holds every chunk for a fixed time in each direction: a database "across
// the network" on one machine (this VM's kernel has no netem). Node's timers fire no sooner than 1 ms, so the smallest
// round trip it adds is about 2.7 ms as measured (bench/README.md), a database in another zone rather than on the next
// rack; read it as an upper case.
//
// Usage: node bench/lib/delay-proxy.mjs LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS
import net from "node:net";

const [listen, host, port, delay] = process.argv.slice(2);
if (!listen || !host || !port || delay === undefined) {
  console.error("usage: node delay-proxy.mjs LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS");
  process.exit(2);
}

const hold = Number(delay);
const relay = (from, to) => from.on("data", chunk => setTimeout(() => to.write(chunk), hold));

net.createServer(client => {
  const server = net.connect(Number(port), host);
  client.setNoDelay(true);
  server.setNoDelay(true);
  relay(client, server);
  relay(server, client);
  const close = () => { client.destroy(); server.destroy(); };
  client.on("error", close).on("close", close);
  server.on("error", close).on("close", close);
}).listen(Number(listen), "127.0.0.1", () => console.log(`delay-proxy: 127.0.0.1:${listen} -> ${host}:${port}, ${hold} ms each way`));
