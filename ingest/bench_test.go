package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var benchReceipt = time.Date(2025, 11, 25, 12, 0, 0, 0, time.UTC)

// benchLines are one line of each common shape, timestamp first.
var benchLines = []string{
	"2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster for application appattempt_1445144423722_0020_000001",
	"Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4",
	`127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08"`,
	"2024-03-01T12:34:56.789123Z level=info msg=\"request served\" path=/api/v1/search status=200 duration_ms=12",
	"nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-38101a0b-2096-447d-96ea-a692162415ae]",
	"this line has no timestamp at all, just some words and a number 12345 and an IP 10.0.0.1 and a Sentence With Capitals Mon Tue",
}

func BenchmarkDetectTimestamp(b *testing.B) {
	for _, line := range benchLines {
		name := strings.Fields(line)[0]
		if len(name) > 12 {
			name = name[:12]
		}
		b.Run(name, func(b *testing.B) {
			d := NewTimestampDetector(time.UTC, benchReceipt)
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				d.Detect(line)
			}
		})
	}
	b.Run("named-zone", func(b *testing.B) {
		loc, err := time.LoadLocation("America/New_York")
		if err != nil {
			b.Skip(err)
		}
		d := NewTimestampDetector(loc, benchReceipt)
		line := benchLines[0]
		b.ReportAllocs()
		for b.Loop() {
			d.Detect(line)
		}
	})
}

// plainBody is n synthetic lines with timestamps, ~120 bytes each.
func plainBody(n int) []byte {
	var buf bytes.Buffer
	t := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range n {
		t = t.Add(37 * time.Millisecond)
		fmt.Fprintf(&buf, "%s INFO [worker-%d] com.example.Service: handled request id=%d user=u%d status=200 bytes=%d\n",
			t.Format("2006-01-02 15:04:05.000"), i%8, i, i%97, i*13%5000)
	}
	return buf.Bytes()
}

func jsonLinesBody(n int) []byte {
	var buf bytes.Buffer
	t := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range n {
		t = t.Add(37 * time.Millisecond)
		fmt.Fprintf(&buf, `{"timestamp":"%s","level":"info","msg":"handled request","http":{"method":"GET","path":"/api/v1/items/%d","status":200},"user":{"id":"u%d","roles":["admin","dev"]},"duration_ms":%d.5}`+"\n",
			t.Format(time.RFC3339Nano), i, i%97, i%300)
	}
	return buf.Bytes()
}

// cloudTrailBody builds a delivery file of about size bytes out of the
// real sample records when present, else a synthetic record.
func cloudTrailBody(tb testing.TB, size int) []byte {
	var recs []json.RawMessage
	if f, ok := findSharedData("cloudtrail_stratus_samples_cloudtrail2sightings/aws.credential-access.secretsmanager-retrieve-secrets.json"); ok {
		b, _ := os.ReadFile(f)
		var f struct{ Records []json.RawMessage }
		if json.Unmarshal(b, &f) == nil {
			recs = f.Records
		}
	}
	if len(recs) == 0 {
		recs = []json.RawMessage{json.RawMessage(syntheticRecord)}
	}
	var buf bytes.Buffer
	buf.WriteString(`{"Records":[`)
	for i := 0; buf.Len() < size; i++ {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(recs[i%len(recs)])
	}
	buf.WriteString("]}")
	return buf.Bytes()
}

const syntheticRecord = `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::123456789012:user/alice","accountId":"123456789012","accessKeyId":"AKIAEXAMPLE","userName":"alice","sessionContext":{"attributes":{"creationDate":"2025-01-02T03:04:05Z","mfaAuthenticated":"false"}}},"eventTime":"2025-01-02T03:04:05Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.15.0","requestParameters":{"bucketName":"example-bucket","key":"reports/2025/01/report.csv","Host":"example-bucket.s3.amazonaws.com"},"responseElements":null,"additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"bytesTransferredOut":18342},"requestID":"EXAMPLE123","eventID":"0a1b2c3d-0000-4000-8000-000000000000","readOnly":true,"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::example-bucket/reports/2025/01/report.csv"}],"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"123456789012","eventCategory":"Data"}`

func BenchmarkParse(b *testing.B) {
	run := func(b *testing.B, body []byte, opt Options) {
		opt.ReceiptTime = benchReceipt
		_, st, err := Parse(body, opt, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			Parse(body, opt, Limits{})
		}
		b.ReportMetric(float64(st.Lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		b.ReportMetric(float64(st.Events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	}
	plain := plainBody(100_000)
	b.Run("plain-auto", func(b *testing.B) { run(b, plain, Options{}) })
	b.Run("plain-off", func(b *testing.B) { run(b, plain, Options{Multiline: MultilineOff}) })
	b.Run("json-lines", func(b *testing.B) { run(b, jsonLinesBody(20_000), Options{}) })
	b.Run("cloudtrail-50MB", func(b *testing.B) { run(b, cloudTrailBody(b, 50<<20), Options{}) })
	b.Run("loghub", func(b *testing.B) {
		dir := sharedData(b, "loghub_2k")
		files, _ := filepath.Glob(filepath.Join(dir, "*", "*_2k.log"))
		var all []byte
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			all = append(append(all, data...), '\n')
		}
		run(b, all, Options{Multiline: MultilineOff})
	})
}

func BenchmarkFlattenJSON(b *testing.B) {
	rec := []byte(syntheticRecord)
	b.Run("scanner", func(b *testing.B) {
		b.SetBytes(int64(len(rec)))
		b.ReportAllocs()
		for b.Loop() {
			FlattenJSON(rec, 8, 200)
		}
	})
	b.Run("encoding-json-token", func(b *testing.B) {
		b.SetBytes(int64(len(rec)))
		b.ReportAllocs()
		for b.Loop() {
			flattenWithTokens(rec, 8, 200)
		}
	})
}

func BenchmarkReadBody(b *testing.B) {
	data := plainBody(100_000)
	for _, tc := range []struct {
		enc  string
		body []byte
	}{{"identity", data}, {"gzip", gzipBytes(b, data)}, {"zstd", zstdBytes(b, data)}} {
		b.Run(tc.enc, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ReadBody(bytes.NewReader(tc.body), tc.enc, DefaultLimits()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
