// Drives the official Postmark Node client against the simulator for
// TestNodeClientFidelity. Phase 1 sends; it then prints one JSON line and
// waits for a line on stdin (the Go test advances the simulator's clock);
// phase 2 reads back searches, details and bounces and prints a second line.
"use strict";
const postmark = require("postmark");
const readline = require("readline");

const client = new postmark.ServerClient(process.env.PM_TOKEN, {
  useHttps: false,
  requestHost: process.env.PM_HOST,
  timeout: 30,
});

// errorOf keeps what the client made of an error response.
function errorOf(e) {
  return { name: e.name, statusCode: e.statusCode, code: e.code, message: e.message, recipients: e.recipients || null };
}

async function attempt(fn) {
  try {
    return { ok: await fn() };
  } catch (e) {
    return { error: errorOf(e) };
  }
}

function waitForLine() {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin });
    rl.once("line", () => {
      rl.close();
      resolve();
    });
  });
}

async function main() {
  const from = "Acme <news@acme.example>";
  const phase1 = {};
  phase1.single = await attempt(() => client.sendEmail({
    From: from, To: "ann@example.com", Subject: "Hello", TextBody: "Hi Ann",
    Metadata: { pf_id: "single-1" }, TrackOpens: false,
  }));
  phase1.singleInvalid = await attempt(() => client.sendEmail({ From: from, To: "test", Subject: "x", TextBody: "x" }));
  phase1.singleInactive = await attempt(() => client.sendEmail({ From: from, To: "gone@example.com", Subject: "x", TextBody: "x" }));
  phase1.badToken = await attempt(() => new postmark.ServerClient("wrong-token", {
    useHttps: false, requestHost: process.env.PM_HOST,
  }).sendEmail({ From: from, To: "ann@example.com", Subject: "x", TextBody: "x" }));
  phase1.batch = await attempt(() => client.sendEmailBatch([
    { From: from, To: "bob@example.com", Subject: "B1", HtmlBody: "<p>B1</p>", Metadata: { pf_id: "batch-1" }, Tag: "digest" },
    { From: from, To: "gone@example.com", Subject: "B2", TextBody: "B2", Metadata: { pf_id: "batch-2" } },
    { From: from, To: "hardbounce@bounce-testing.postmarkapp.com", Subject: "B3", TextBody: "B3", Metadata: { pf_id: "batch-3" }, Tag: "digest" },
  ]));
  phase1.templates = await attempt(() => client.sendEmailBatchWithTemplates([
    { From: from, To: "cy@example.com", TemplateAlias: "welcome", TemplateModel: { name: "Cy" }, Metadata: { pf_id: "tmpl-1" } },
    { From: from, To: "dee@example.com", TemplateAlias: "no-such-template", TemplateModel: { name: "Dee" } },
  ]));
  console.log(JSON.stringify(phase1));

  await waitForLine();

  const phase2 = {};
  phase2.search = await attempt(() => client.getOutboundMessages({ count: 50, offset: 0, metadata_pf_id: "batch-1" }));
  phase2.searchAll = await attempt(() => client.getOutboundMessages({ count: 50, offset: 0, messageStream: "outbound" }));
  const batchID = phase1.batch.ok ? phase1.batch.ok[0].MessageID : "";
  phase2.details = await attempt(() => client.getOutboundMessageDetails(batchID));
  phase2.detailsUnknown = await attempt(() => client.getOutboundMessageDetails("00000000-0000-4000-8000-000000000000"));
  phase2.bounces = await attempt(() => client.getBounces({ count: 10, offset: 0 }));
  console.log(JSON.stringify(phase2));
}

main().then(() => process.exit(0), (e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
