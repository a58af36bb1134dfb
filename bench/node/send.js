#!/usr/bin/env node
// The Node.js peer of postform's benchmark: a plain script that sends the
// benchmark's recipients with the official postmark client, in the obvious
// way. It reads the same CSV and templates, renders each message with plain
// string replacement, and calls sendEmailBatch on chunks of BATCH messages
// with exactly PARALLELISM calls in flight (a small promise pool). Nothing is
// retried or recorded durably.
//
// Usage: POSTMARK_SERVER_TOKEN=... node send.js DIR HOST PARALLELISM BATCH
// (DIR holds recipients.csv and templates/; HOST is 127.0.0.1:PORT).
// Prints one JSON line: {"sent":..,"failed":..,"requests":..,"elapsed_seconds":..}.
"use strict";

const fs = require("fs");
const path = require("path");
const postmark = require("postmark");

const [dir, host, parStr, batchStr] = process.argv.slice(2);
const parallelism = Number(parStr);
const batchSize = Number(batchStr);
if (!dir || !host || !(parallelism > 0) || !(batchSize > 0)) {
  console.error("usage: node send.js DIR HOST PARALLELISM BATCH");
  process.exit(2);
}

const from = "Acme News <news@acme.example>";
const tag = "2026-11-digest";
const month = "November";
const subjectTmpl = "Your ${month} digest, ${first_name}";
const htmlTmpl = fs.readFileSync(path.join(dir, "templates", "digest.html"), "utf8");
const textTmpl = fs.readFileSync(path.join(dir, "templates", "digest.txt"), "utf8");

function render(tmpl, data) {
  return tmpl.replace(/\$\{(\w+)\}/g, (_, name) => data[name]);
}

const lines = fs.readFileSync(path.join(dir, "recipients.csv"), "utf8").split("\n");
const header = lines[0].split(",");
const rows = [];
for (let i = 1; i < lines.length; i++) {
  if (lines[i] !== "") rows.push(lines[i]);
}

function message(line) {
  const fields = line.split(",");
  const r = {};
  header.forEach((col, i) => { r[col] = fields[i]; });
  const data = {
    first_name: r.first_name, last_name: r.last_name, customer_id: r.id,
    plan: r.plan, city: r.city, month,
  };
  return {
    From: from,
    To: r.email,
    Subject: render(subjectTmpl, data),
    HtmlBody: render(htmlTmpl, data),
    TextBody: render(textTmpl, data),
    Tag: tag,
    Metadata: { customer_id: r.id, plan: r.plan },
    TrackOpens: true,
    TrackLinks: "HtmlAndText",
    MessageStream: "outbound",
  };
}

const client = new postmark.ServerClient(process.env.POSTMARK_SERVER_TOKEN, {
  useHttps: false,
  requestHost: host,
});

let next = 0;
let sent = 0;
let failed = 0;
let requests = 0;
const errors = {};

async function worker() {
  for (;;) {
    const start = next;
    if (start >= rows.length) return;
    next += batchSize;
    const chunk = rows.slice(start, start + batchSize).map(message);
    requests++;
    try {
      const results = await client.sendEmailBatch(chunk);
      for (const res of results) {
        if (res.ErrorCode === 0) sent++;
        else failed++;
      }
    } catch (err) {
      failed += chunk.length;
      const key = String(err && err.message);
      errors[key] = (errors[key] || 0) + 1;
    }
  }
}

async function main() {
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: parallelism }, worker));
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ sent, failed, requests, elapsed_seconds: elapsed, errors }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
