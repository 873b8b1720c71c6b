// What a user would build with a database: verify the Standard Webhooks
// signature, INSERT the event into PostgreSQL (synchronous_commit=on, so
// the commit is on disk) and only then answer 200. A delivery id seen
// before is answered 200 without a second row. PORT, SECRET (whsec_...)
// and PGHOST/PGPORT/PGUSER/PGDATABASE come from the environment.
"use strict";
const http = require("http");
const { Pool } = require("pg");
const { Webhook } = require("standardwebhooks");

const wh = new Webhook(process.env.SECRET);
const port = Number(process.env.PORT || 28085);
const pool = new Pool({ max: Number(process.env.PG_POOL || 16) });

function answer(res, status, obj) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(obj));
}

http.createServer((req, res) => {
  if (req.method !== "POST") {
    res.writeHead(405, { Allow: "POST" }).end();
    return;
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    let event;
    try {
      event = wh.verify(body, req.headers);
    } catch (e) {
      answer(res, 401, { error: String(e.message || e) });
      return;
    }
    pool.query("INSERT INTO events (webhook_id, type, payload) " +
        "VALUES ($1, $2, $3) ON CONFLICT (webhook_id) DO NOTHING",
        [req.headers["webhook-id"], event.type, body])
      .then(() => answer(res, 200, { status: "ok" }))
      .catch((e) => answer(res, 503, { error: String(e.message || e) }));
  });
}).listen(port, "127.0.0.1");
