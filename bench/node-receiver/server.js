// A hand-written Standard Webhooks receiver: verify, answer, nothing else
// (no storage). PORT and SECRET (whsec_...) come from the environment.
"use strict";
const http = require("http");
const { Webhook } = require("standardwebhooks");

const wh = new Webhook(process.env.SECRET);
const port = Number(process.env.PORT || 28082);

http.createServer((req, res) => {
  if (req.method !== "POST") {
    res.writeHead(405, { Allow: "POST" }).end();
    return;
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    try {
      const event = wh.verify(body, req.headers);
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ status: "ok", type: event.type }));
    } catch (e) {
      res.writeHead(401, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: String(e.message || e) }));
    }
  });
}).listen(port, "127.0.0.1");
