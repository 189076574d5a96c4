#!/usr/bin/env node
// A refresh load that keeps each rotation chain through an outage: CONCURRENCY chains, each
// presenting the token it was last answered with, again after a 503 (wrk's refresh.lua drops a
// chain whose answer carried no token). Prints each status's count, the longest run without a
// 200, and "RESULT …" like the wrk scripts. Node 20's fetch only.
//
// Environment: ISSUER, CLIENT_ID, CLIENT_SECRET, REFRESH_FILE (one token a line), DURATION (s).
import { readFileSync } from 'node:fs';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const basic = 'Basic ' + Buffer.from(`${env('CLIENT_ID')}:${env('CLIENT_SECRET')}`).toString('base64');
const tokens = readFileSync(env('REFRESH_FILE'), 'utf8').split('\n').filter(Boolean);
const deadline = performance.now() + 1000 * Number(env('DURATION', '40'));
const statuses = {};
const latencies = [];
let lastOk = performance.now();
let longestGap = 0;

await Promise.all(tokens.map(async (first) => {
  let token = first;
  while (performance.now() < deadline) {
    const t0 = performance.now();
    let status;
    try {
      const response = await fetch(new URL('/token', env('ISSUER')), {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }),
      });
      const body = await response.json().catch(() => ({}));
      status = `${response.status}${body.error ? ' ' + body.error : ''}`;
      if (response.ok) {
        token = body.refresh_token;
        const now = performance.now();
        longestGap = Math.max(longestGap, now - lastOk);
        lastOk = now;
      }
    } catch (error) {
      status = `connection: ${error.cause?.code ?? error.message}`;
    }
    latencies.push(performance.now() - t0);
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (!status.startsWith('200')) await new Promise((r) => setTimeout(r, 50));
  }
}));
latencies.sort((a, b) => a - b);
const p = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(3);
const errors = Object.entries(statuses).filter(([s]) => !s.startsWith('200')).reduce((n, [, c]) => n + c, 0);
console.log(`statuses ${JSON.stringify(statuses)} longest_gap_s=${(longestGap / 1000).toFixed(1)}`);
console.log(`RESULT requests=${latencies.length} p50_ms=${p(0.5)} p99_ms=${p(0.99)} errors=${errors}`);
