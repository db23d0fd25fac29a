import dgram from "node:dgram";
import type { AddressInfo } from "node:net";

/**
 * Stands in for the internet's DNS (this machine has none) in the email authentication checks:
 * TXT records by name, every other name answers ENOTFOUND as node:dns does. Only tests use it;
 * the server's resolver is configurable (EmailConfig.resolver, EMAIL_AUTH_DNS_SERVERS).
 */
export function fakeResolver(txt: Record<string, string | string[]> = {}) {
  const records = new Map(Object.entries(txt).map(([name, value]) => [name.toLowerCase(), [value].flat()]));
  const lookups: string[] = [];
  const resolver = async (name: string, rrtype: string): Promise<string[][] | string[]> => {
    lookups.push(`${rrtype} ${name}`);
    const found = rrtype === "TXT" ? records.get(name.toLowerCase().replace(/\.$/, "")) : undefined;
    if (!found) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: "ENOTFOUND" });
    // node:dns gives each TXT record as its chunks of at most 255 characters.
    return found.map((r) => r.match(/.{1,255}/g) ?? [""]);
  };
  return { resolver, lookups, set: (name: string, value: string | string[]) => records.set(name.toLowerCase(), [value].flat()) };
}

/**
 * A real DNS server on 127.0.0.1 (UDP, ephemeral port) for a server in a child process
 * (EMAIL_AUTH_DNS_SERVERS=127.0.0.1:<port>). While `hold` is on it answers nothing, so a lookup
 * stalls the intake (the test knows it is waiting by `queries`); otherwise every name is NXDOMAIN.
 */
export async function startStallingDns() {
  const socket = dgram.createSocket("udp4");
  const state = { hold: true, queries: 0 };
  const waiters: Array<() => void> = [];
  socket.on("message", (msg, peer) => {
    state.queries++;
    waiters.splice(0).forEach((w) => w());
    if (state.hold || msg.length < 12) return;
    // Header: same id, QR + RD + RA, RCODE 3 (NXDOMAIN), the question echoed, no answers.
    const header = Buffer.from([msg[0], msg[1], 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0]);
    let end = 12;
    while (end < msg.length && msg[end] !== 0) end += msg[end] + 1;
    socket.send(Buffer.concat([header, msg.subarray(12, end + 5)]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${(socket.address() as AddressInfo).port}`,
    state,
    /** Resolves once a query arrives (now, if one has). */
    queried: () => (state.queries > 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
