// A deterministic sample data set for the demo, the end-to-end tests and
// the benchmarks: a `shop` database with `customers` and `orders`, whose
// documents use a spread of BSON types (ObjectId, Date, Decimal128, Long,
// nested documents, arrays, binary, null) so that the encoder is exercised.
//
//   node tests/node/lib/sample-data.mjs MONGO_URI [CUSTOMERS] [ORDERS]
import { MongoClient, ObjectId, Decimal128, Long, Binary } from 'mongodb';
import { prng } from '../vectors/prng.mjs';

const CITIES = ['Berlin', 'Lagos', 'Lima', 'Osaka', 'Porto', 'Quito', 'Tartu', 'Zagreb'];
const ITEMS = ['honey', 'wax', 'comb', 'pollen', 'propolis', 'mead', 'candle', 'hive'];

// ObjectIds made from a counter and a fixed time, so every run publishes the
// same data and therefore the same state root.
export function sampleId(kind, i) {
  const marker = kind === 'customer' ? 'c0ffee' : 'bee000';
  return new ObjectId((0x65000000 + i).toString(16) + marker + i.toString(16).padStart(10, '0'));
}

export function customers(n, seed = 7) {
  const r = prng(seed);
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push({
      _id: sampleId('customer', i),
      name: `Customer ${i}`,
      email: `customer${i}@example.org`,
      city: CITIES[r.int(CITIES.length)],
      since: new Date(Date.UTC(2020, 0, 1) + r.int(1500) * 86400000),
      vip: r.int(10) === 0,
      tags: i % 3 === 0 ? ['beekeeper'] : [],
      address: { street: `${1 + r.int(200)} Hive Lane`, zip: String(10000 + r.int(89999)) },
    });
  }
  return out;
}

export function orders(n, customerCount, seed = 11) {
  const r = prng(seed);
  const out = [];
  for (let i = 0; i < n; i++) {
    const lines = [];
    for (let k = 0, m = 1 + r.int(4); k < m; k++) {
      lines.push({ item: ITEMS[r.int(ITEMS.length)], qty: 1 + r.int(9),
                   price: Decimal128.fromString(`${1 + r.int(99)}.${r.int(100).toString().padStart(2, '0')}`) });
    }
    out.push({
      _id: sampleId('order', i),
      customer: sampleId('customer', r.int(customerCount)),
      placed: new Date(Date.UTC(2024, 0, 1) + r.int(365 * 86400) * 1000),
      status: ['new', 'paid', 'shipped', 'delivered'][r.int(4)],
      lines,
      sequence: Long.fromNumber(1e12 + i),
      note: i % 17 === 0 ? null : undefined,
      receipt: i % 50 === 0 ? new Binary(Buffer.from(r.bytes(16)), 0) : undefined,
    });
  }
  return out.map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)));
}

export async function load(uri, { customerCount = 2000, orderCount = 3000, db = 'shop' } = {}) {
  const client = new MongoClient(uri, { directConnection: true });
  await client.connect();
  try {
    const d = client.db(db);
    await d.collection('customers').insertMany(customers(customerCount), { ordered: true });
    await d.collection('orders').insertMany(orders(orderCount, customerCount), { ordered: true });
    return { customers: customerCount, orders: orderCount };
  } finally {
    await client.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [uri, c, o] = process.argv.slice(2);
  if (!uri) {
    console.error('usage: node tests/node/lib/sample-data.mjs MONGO_URI [CUSTOMERS] [ORDERS]');
    process.exit(2);
  }
  const counts = await load(uri, { customerCount: Number(c ?? 2000), orderCount: Number(o ?? 3000) });
  console.log(`loaded ${counts.customers} customers and ${counts.orders} orders into shop`);
}
