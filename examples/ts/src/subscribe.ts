// Prints a session's game events as they arrive over NATS, decoded with the
// generated @jimbot/schemas package (the TypeScript example of
// docs/clients.md; examples/python/tests/test_typescript_example.py runs it
// against a real nats-server and gateway).
//
// usage: node dist/subscribe.js [--servers nats://127.0.0.1:4222]
//                               [--session <session>] [--count <events>]
import { parseArgs } from "node:util";

import { fromBinary } from "@bufbuild/protobuf";
import { EventSchema, EventTypeSchema } from "@jimbot/schemas";
import { connect } from "nats";

function flagsOrExit() {
  try {
    return parseArgs({
      options: {
        servers: { type: "string", default: "nats://127.0.0.1:4222" },
        session: { type: "string", default: "*" },
        count: { type: "string" },
      },
    }).values;
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  }
}

const flags = flagsOrExit();
const servers = flags.servers;
const session = flags.session;
const count = flags.count === undefined ? undefined : Number(flags.count);
if (count !== undefined && !(Number.isInteger(count) && count > 0)) {
  console.error(`--count must be a positive whole number, not ${flags.count}`);
  process.exit(2);
}

const nc = await connect({ servers });
const subscription = nc.subscribe(`jimbot.game.${session}.>`, { max: count });
await nc.flush(); // the server has the subscription: nothing published from here on is missed
console.log("subscribed", subscription.getSubject());
for await (const msg of subscription) {
  const event = fromBinary(EventSchema, msg.data);
  const type = EventTypeSchema.values.find((v) => v.number === event.type)?.name;
  console.log(msg.subject, type, event.payload.case);
  if (event.payload.case === "gameState") {
    const state = event.payload.value;
    console.log("  ante", state.ante, "money", state.money, "jokers", state.jokers.map((j) => j.name));
  }
}
await nc.drain();
