// Package demo generates realistic, deterministic demo traffic for a dohyo
// server and sends it through the server's real ingest path (HTTP sources
// and their receivers), so that a fresh install has a week of data to search
// and the AWS CloudTrail app has something to show.
//
// Three streams, each sent to its own HTTP source:
//
//   - demo/web/access: Apache combined access logs of an online shop on
//     hosts web-1, web-2 and web-3. Visitors come from real public address
//     blocks of a dozen countries (a GeoIP database maps them), with
//     realistic paths, browsers, crawlers, status codes, and bursts of
//     4xx (vulnerability scans) and 5xx (payment outages).
//   - demo/app/payments: logs of a Java payments service on payments-1 and
//     payments-2 (levels, request ids, latencies), errors followed by stack
//     traces ("\tat ..." frames, "Caused by:"), so the source's multiline
//     grouping is exercised.
//   - aws/cloudtrail: CloudTrail records, one compact JSON object per line:
//     everyday activity of people, CI and services (Describe*/List*/Get*,
//     AssumeRole, ConsoleLogin with MFA, KMS, S3 data events, ...) and the
//     suspicious activity the CloudTrail app's dashboards and security
//     checks look for (see the Scenario* constants).
//
// Use Run to feed a server:
//
//	err := demo.Run(ctx, demo.Config{
//		APIURL:    "http://127.0.0.1:9300",
//		AccessID:  id,
//		AccessKey: key,
//		StateFile: filepath.Join(dataDir, "demo-state.json"),
//		Out:       os.Stderr,
//	})
//
// Run creates (or takes over) the three sources, backfills the last 7 days
// with about a million events (suspicious activity spread over the week,
// and one of each scenario within the last hour), then generates about 20
// events per second with a suspicious burst every 5 minutes (the first after a minute) until ctx is
// cancelled. Restarted with the same StateFile, it fills only the gap since
// the previous run (at most 7 days). Run returns nil when ctx is cancelled.
//
// Generator is the deterministic generator behind Run, usable on its own
// (for tests and benchmarks): the same seed and arguments give the same
// events.
package demo
