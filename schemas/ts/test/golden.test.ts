// Cross-language golden vectors (see docs/clients.md).
//
// Decodes every event Rust wrote to schemas/golden/events/ and compares it
// field by field with the values in events.json; encodes the events Rust
// expects in schemas/golden/from-ts/ (UPDATE_GOLDEN=1 rewrites them).

import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { create, type DescMessage, fromBinary, toBinary } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";

import {
  type Event,
  EventSchema,
  EventType,
  EventTypeSchema,
  type GameState,
  GameStateSchema,
  JokerSchema,
  MoneyChangedSchema,
  RoundChangedSchema,
  ScoreHistoryItemSchema,
  ScoringSchema,
} from "../src/index.js";

// dist/test/ -> schemas/golden
const golden = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "golden");

interface IndexEntry {
  file: string;
  expected: unknown;
}
const index = JSON.parse(readFileSync(join(golden, "events.json"), "utf8")) as {
  events: IndexEntry[];
};

const opt = <T>(value: T | undefined): T | null => (value === undefined ? null : value);

// A double as Rust wrote it: a number, or "inf"/"-inf"/"nan".
function double(value: number | undefined): number | string | null {
  if (value === undefined) return null;
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  return value;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

// The .proto name of a oneof's set field ("gameState" -> "game_state").
function oneofFieldName(schema: DescMessage, localName: string | undefined): string | null {
  if (localName === undefined) return null;
  const field = schema.fields.find((f) => f.localName === localName);
  assert.ok(field, `unknown oneof case ${localName}`);
  return field.name;
}

const payloadCase = (event: Event): string | null => oneofFieldName(EventSchema, event.payload.case);

function gameStateFields(state: GameState): unknown {
  return {
    in_game: opt(state.inGame),
    game_id: opt(state.gameId),
    ante: double(state.ante),
    round: double(state.round),
    chips: double(state.chips),
    mult: double(state.mult),
    money: double(state.money),
    hands_remaining: double(state.handsRemaining),
    discards_remaining: double(state.discardsRemaining),
    phase: opt(state.phase),
    joker_names: state.jokers.map((j) => opt(j.name)),
    hand: state.hand.map((c) => [opt(c.rank), opt(c.suit)]),
    // Rust sorts by UTF-8 bytes; the keys are ASCII, where that is code-unit order.
    score_history_keys: Object.keys(state.scoreHistory).sort(),
    shop_item_keys: Object.keys(state.shopItems).sort(),
  };
}

function payloadFields(event: Event): unknown {
  const p = event.payload;
  switch (p.case) {
    case undefined:
      return null;
    case "gameState":
      return gameStateFields(p.value);
    case "heartbeat":
      return {
        version: opt(p.value.version),
        uptime: double(p.value.uptime),
        headless: opt(p.value.headless),
        game_state: opt(p.value.gameState),
      };
    case "moneyChanged":
      return {
        old_value: double(p.value.oldValue),
        new_value: double(p.value.newValue),
        difference: double(p.value.difference),
      };
    case "roundChanged":
      return { ante: double(p.value.ante), round: double(p.value.round) };
    case "connectionTest":
      return { message: opt(p.value.message) };
    case "scoreChanged":
      return {
        old_chips: double(p.value.oldChips),
        new_chips: double(p.value.newChips),
        old_mult: double(p.value.oldMult),
        new_mult: double(p.value.newMult),
      };
    case "handPlayed":
      return { hands_remaining: double(p.value.handsRemaining), hand_number: double(p.value.handNumber) };
    case "cardsDiscarded":
      return { discards_remaining: double(p.value.discardsRemaining) };
    case "jokersChanged":
      return {
        old_count: double(p.value.oldCount),
        new_count: double(p.value.newCount),
        joker_names: p.value.jokers.map((j) => opt(j.name)),
      };
    case "phaseChanged":
      return { old_phase: opt(p.value.oldPhase), new_phase: opt(p.value.newPhase) };
    case "roundComplete":
      return {
        ante: double(p.value.ante),
        round: double(p.value.round),
        score: double(p.value.score),
        money: double(p.value.money),
      };
    case "jokerTrigger":
      return { joker_name: opt(p.value.jokerName), timestamp: double(p.value.timestamp) };
    case "scoring":
      return { detail_case: oneofFieldName(ScoringSchema, p.value.detail.case) };
    default:
      return {};
  }
}

function fields(event: Event): unknown {
  const typeName = EventTypeSchema.values.find((v) => v.number === event.type)?.name;
  return {
    event_id: event.eventId,
    type: typeName,
    type_name: event.typeName,
    source: opt(event.source),
    session: event.session,
    client_timestamp_ms: double(event.clientTimestampMs),
    batch_id: event.batchId,
    batch_timestamp_ms: double(event.batchTimestampMs),
    has_received_at: event.receivedAt !== undefined,
    version: double(event.version),
    priority: opt(event.priority),
    subtype: opt(event.subtype),
    initial: opt(event.initial),
    debug: opt(event.debug),
    has_changes: event.hasChanges,
    changes: event.changes.map(fields),
    original_json_hex: hex(event.originalJson),
    payload_from_data: event.payloadFromData,
    payload_case: payloadCase(event),
    payload: payloadFields(event),
  };
}

test("the index lists every vector file", () => {
  const listed = index.events.map((e) => e.file).sort();
  const onDisk = readdirSync(join(golden, "events"))
    .filter((name) => name.endsWith(".binpb"))
    .map((name) => `events/${name}`)
    .sort();
  assert.deepEqual(listed, onDisk);
  assert.ok(listed.length > 40);
});

for (const entry of index.events) {
  test(`${entry.file} decodes to the expected fields`, () => {
    const bytes = new Uint8Array(readFileSync(join(golden, entry.file)));
    const event = fromBinary(EventSchema, bytes);
    assert.deepEqual(fields(event), entry.expected);
    // Nothing the decoder skipped or lost: re-encoding gives Rust's bytes
    // (a NaN payload rules out comparing decoded messages with equals()).
    assert.equal(event.$unknown, undefined);
    assert.deepEqual(toBinary(EventSchema, event), bytes);
  });
}

test("a truncated vector is rejected", () => {
  const first = index.events[0];
  assert.ok(first);
  const bytes = new Uint8Array(readFileSync(join(golden, first.file)));
  assert.throws(() => fromBinary(EventSchema, bytes.subarray(0, bytes.length - 1)));
});

// Field 99 (not in the schema), varint 1: what a newer additive schema adds.
const unknownField = new Uint8Array([0x98, 0x06, 0x01]);

test("an unknown field survives decoding and re-encoding", () => {
  const first = index.events[0];
  assert.ok(first);
  const bytes = new Uint8Array([...readFileSync(join(golden, first.file)), ...unknownField]);
  assert.deepEqual(toBinary(EventSchema, fromBinary(EventSchema, bytes)), bytes);
});

for (const [name, garbage] of Object.entries({
  "bad varint": [0xff],
  "short string": [0x0a, 0x05, 0x61, 0x62],
  "bad wire type": [0x07],
})) {
  test(`malformed bytes are rejected: ${name}`, () => {
    assert.throws(() => fromBinary(EventSchema, new Uint8Array(garbage)));
  });
}

// The events Rust's golden test expects; the same values as its client_events().
const clientEvents: Record<string, Event> = {
  money_changed: create(EventSchema, {
    eventId: "client-money-1",
    type: EventType.MONEY_CHANGED,
    typeName: "money_changed",
    source: "BalatroMCP",
    session: "golden",
    clientTimestampMs: 12345.5,
    batchId: "batch-\u00fc",
    version: 1,
    priority: "high",
    originalJson: new Uint8Array([...Buffer.from('{"money":inf}'), 0x00, 0xff]),
    payload: {
      case: "moneyChanged",
      value: create(MoneyChangedSchema, { oldValue: 4, newValue: 9, difference: 5 }),
    },
  }),
  game_state: create(EventSchema, {
    eventId: "client-state-1",
    type: EventType.GAME_STATE,
    typeName: "GAME_STATE",
    session: "golden",
    receivedAt: create(TimestampSchema, { seconds: 1_700_000_000n, nanos: 5 }),
    initial: true,
    hasChanges: true,
    changes: [
      create(EventSchema, {
        type: EventType.ROUND_CHANGED,
        typeName: "round_changed",
        payload: { case: "roundChanged", value: create(RoundChangedSchema, { ante: 2, round: 3 }) },
      }),
    ],
    payload: {
      case: "gameState",
      value: create(GameStateSchema, {
        inGame: true,
        ante: 2,
        money: -3.5,
        chips: 1e300,
        mult: Infinity,
        jokers: [
          create(JokerSchema, {
            id: { case: "textId", value: "joker_1" },
            name: "J\u00f6ker \u{1f0cf}",
            position: 0,
          }),
        ],
        scoreHistory: { "1": create(ScoreHistoryItemSchema, { label: "Pair", amt: 10 }) },
      }),
    },
  }),
  custom: create(EventSchema, {
    type: EventType.CUSTOM,
    typeName: "mystery_event",
    session: "golden",
  }),
};

for (const [name, event] of Object.entries(clientEvents)) {
  test(`the TypeScript encoding of ${name} matches the committed vector`, () => {
    const bytes = toBinary(EventSchema, event);
    const path = join(golden, "from-ts", `${name}.binpb`);
    if (process.env.UPDATE_GOLDEN === "1") {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, bytes);
    }
    assert.deepEqual(new Uint8Array(readFileSync(path)), bytes, `${path} is stale; rerun with UPDATE_GOLDEN=1`);
  });
}
