package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// The demo shop's "payments" service: a Spring Boot application logging with
// logback ("%d %-5level [%thread] %logger - %msg"), errors followed by Java
// stack traces whose continuation lines start with a tab ("\tat ...",
// "\t... 42 common frames omitted") or "Caused by:".

var appHosts = []string{"payments-1", "payments-2"}

func appTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") }

func appLine(t time.Time, level, thread, logger, msg string) string {
	return fmt.Sprintf("%s %-5s [%s] %s - %s", appTime(t), level, thread, logger, msg)
}

var merchants = []string{"m_1042", "m_1187", "m_2210", "m_3001", "m_3577", "m_4120"}
var gateways = []string{"adyen", "stripe", "adyen", "braintree"}
var currencies = []weighted[string]{{"USD", 50}, {"EUR", 25}, {"GBP", 10}, {"JPY", 6}, {"INR", 5}, {"BRL", 4}}
var declineReasons = []string{"insufficient_funds", "card_expired", "do_not_honor", "incorrect_cvc", "lost_card"}

func requestID(rng *rand.Rand) string { return fmt.Sprintf("req-%016x", rng.Uint64()) }

func thread(rng *rand.Rand) string { return fmt.Sprintf("http-nio-8080-exec-%d", 1+rng.IntN(24)) }

func amount(rng *rand.Rand, cur string) string {
	switch cur {
	case "JPY":
		return fmt.Sprintf("%d", 800+rng.IntN(40000))
	case "INR":
		return fmt.Sprintf("%d.00", 300+rng.IntN(20000))
	}
	return fmt.Sprintf("%d.%02d", 5+rng.IntN(400), rng.IntN(100))
}

// appEvent generates one ordinary log event. outage is the share of payment
// requests failing at this moment because the card gateway times out.
func (g *Generator) appEvent(rng *rand.Rand, t time.Time, outage float64) (raw string, failed bool) {
	rid := requestID(rng)
	th := thread(rng)
	cur := pick(rng, currencies)
	gw := oneOf(rng, gateways...)
	if outage > 0 && rng.Float64() < outage*0.6 {
		return g.gatewayTimeout(rng, t, th, rid, gw), true
	}
	switch k := pick(rng, appMessages); k {
	case "authorized":
		lat := 80 + rng.IntN(400)
		if outage > 0 {
			lat += 2000 + rng.IntN(8000)
		}
		return appLine(t, "INFO", th, "c.d.payments.api.PaymentController",
			fmt.Sprintf("requestId=%s POST /v1/payments merchant=%s amount=%s currency=%s gateway=%s status=AUTHORIZED latencyMs=%d",
				rid, oneOf(rng, merchants...), amount(rng, cur), cur, gw, lat)), false
	case "captured":
		return appLine(t, "INFO", th, "c.d.payments.service.CaptureService",
			fmt.Sprintf("requestId=%s capture pay_%012x amount=%s currency=%s status=CAPTURED latencyMs=%d", rid, rng.Uint64()>>16, amount(rng, cur), cur, 40+rng.IntN(200))), false
	case "gateway":
		return appLine(t, "DEBUG", th, "c.d.payments.gateway.CardGatewayClient",
			fmt.Sprintf("requestId=%s gateway=%s op=authorize httpStatus=200 latencyMs=%d", rid, gw, 60+rng.IntN(350))), false
	case "declined":
		return appLine(t, "WARN", th, "c.d.payments.service.PaymentService",
			fmt.Sprintf("requestId=%s card declined by %s: reason=%s merchant=%s amount=%s currency=%s", rid, gw, oneOf(rng, declineReasons...), oneOf(rng, merchants...), amount(rng, cur), cur)), false
	case "fraud":
		return appLine(t, "WARN", th, "c.d.payments.fraud.FraudScoringService",
			fmt.Sprintf("requestId=%s fraud score %.2f above review threshold 0.80 customer=cus_%08x billingCountry=%s ipCountry=%s action=REVIEW",
				rid, 0.8+rng.Float64()*0.19, rng.Uint32(), oneOf(rng, "US", "DE", "GB"), oneOf(rng, "NG", "VN", "RU", "BR"))), false
	case "slow":
		return appLine(t, "WARN", th, "c.d.payments.gateway.CardGatewayClient",
			fmt.Sprintf("requestId=%s gateway=%s op=authorize slow response latencyMs=%d thresholdMs=2000", rid, gw, 2000+rng.IntN(3000))), false
	case "refund":
		return appLine(t, "INFO", th, "c.d.payments.service.RefundService",
			fmt.Sprintf("requestId=%s refund re_%012x amount=%s currency=%s status=SUCCEEDED", rid, rng.Uint64()>>16, amount(rng, cur), cur)), false
	case "pool":
		return appLine(t, "DEBUG", "HikariPool-1 housekeeper", "com.zaxxer.hikari.pool.HikariPool",
			fmt.Sprintf("HikariPool-1 - Pool stats (total=20, active=%d, idle=%d, waiting=0)", 2+rng.IntN(10), 8+rng.IntN(8))), false
	case "settlement":
		return appLine(t, "INFO", "scheduling-1", "c.d.payments.settlement.SettlementJob",
			fmt.Sprintf("settlement batch %s exported %d transactions to s3://dohyo-demo-settlements/%s/ in %d ms",
				t.UTC().Format("2006-01-02T15"), 200+rng.IntN(3000), t.UTC().Format("2006/01/02"), 800+rng.IntN(4000))), false
	case "npe":
		return g.nullPointer(rng, t, th, rid), false
	case "db":
		return g.dbConflict(rng, t, th, rid), false
	}
	return appLine(t, "INFO", th, "c.d.payments.api.HealthController", "GET /actuator/health status=UP"), false
}

var appMessages = []weighted[string]{
	{"authorized", 30}, {"captured", 14}, {"gateway", 20}, {"declined", 4}, {"fraud", 1.2}, {"slow", 2},
	{"refund", 3}, {"pool", 4}, {"settlement", 0.3}, {"npe", 0.25}, {"db", 0.35}, {"health", 6},
}

// Stack frames shared by request-handling traces.
var springFrames = []string{
	"java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)",
	"java.base/java.lang.reflect.Method.invoke(Method.java:580)",
	"org.springframework.web.method.support.InvocableHandlerMethod.doInvoke(InvocableHandlerMethod.java:255)",
	"org.springframework.web.method.support.InvocableHandlerMethod.invokeForRequest(InvocableHandlerMethod.java:188)",
	"org.springframework.web.servlet.mvc.method.annotation.ServletInvocableHandlerMethod.invokeAndHandle(ServletInvocableHandlerMethod.java:118)",
	"org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerAdapter.invokeHandlerMethod(RequestMappingHandlerAdapter.java:926)",
	"org.springframework.web.servlet.DispatcherServlet.doDispatch(DispatcherServlet.java:1089)",
	"org.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:1014)",
	"jakarta.servlet.http.HttpServlet.service(HttpServlet.java:590)",
	"org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:138)",
	"org.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:165)",
	"org.apache.coyote.http11.Http11Processor.service(Http11Processor.java:397)",
	"org.apache.tomcat.util.net.NioEndpoint$SocketProcessor.doRun(NioEndpoint.java:1769)",
	"org.apache.tomcat.util.threads.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:659)",
	"java.base/java.lang.Thread.run(Thread.java:1583)",
}

func trace(b *strings.Builder, frames ...string) {
	for _, f := range frames {
		b.WriteString("\n\tat ")
		b.WriteString(f)
	}
}

// gatewayTimeout is the error of a payment whose card gateway timed out.
func (g *Generator) gatewayTimeout(rng *rand.Rand, t time.Time, th, rid, gw string) string {
	var b strings.Builder
	b.WriteString(appLine(t, "ERROR", th, "c.d.payments.api.PaymentController",
		fmt.Sprintf("requestId=%s POST /v1/payments failed: gateway=%s op=authorize timed out after 30000 ms status=GATEWAY_TIMEOUT", rid, gw)))
	fmt.Fprintf(&b, "\ncom.dohyo.payments.gateway.GatewayTimeoutException: %s authorize timed out after 30000 ms", gw)
	trace(&b,
		"com.dohyo.payments.gateway.CardGatewayClient.authorize(CardGatewayClient.java:142)",
		"com.dohyo.payments.service.PaymentService.authorize(PaymentService.java:88)",
		"com.dohyo.payments.api.PaymentController.create(PaymentController.java:57)")
	trace(&b, springFrames...)
	b.WriteString("\nCaused by: java.net.SocketTimeoutException: Read timed out")
	trace(&b,
		"java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:278)",
		"java.base/sun.nio.ch.NioSocketImpl.implRead(NioSocketImpl.java:304)",
		"java.base/java.net.Socket$SocketInputStream.read(Socket.java:1099)",
		"okio.InputStreamSource.read(JvmOkio.kt:93)",
		"okhttp3.internal.http1.Http1ExchangeCodec.readResponseHeaders(Http1ExchangeCodec.kt:185)",
		"com.dohyo.payments.gateway.CardGatewayClient.authorize(CardGatewayClient.java:131)")
	fmt.Fprintf(&b, "\n\t... %d common frames omitted", 17+rng.IntN(3))
	return b.String()
}

func (g *Generator) nullPointer(rng *rand.Rand, t time.Time, th, rid string) string {
	var b strings.Builder
	b.WriteString(appLine(t, "ERROR", th, "o.a.c.c.C.[.[.[/].[dispatcherServlet]",
		fmt.Sprintf("requestId=%s Servlet.service() for servlet [dispatcherServlet] threw exception", rid)))
	b.WriteString("\njava.lang.NullPointerException: Cannot invoke \"java.math.BigDecimal.multiply(java.math.BigDecimal)\" because \"rate\" is null")
	trace(&b,
		"com.dohyo.payments.fx.CurrencyConverter.convert(CurrencyConverter.java:61)",
		"com.dohyo.payments.service.PaymentService.authorize(PaymentService.java:74)",
		"com.dohyo.payments.api.PaymentController.create(PaymentController.java:57)")
	trace(&b, springFrames[:4+rng.IntN(len(springFrames)-4)]...)
	return b.String()
}

func (g *Generator) dbConflict(rng *rand.Rand, t time.Time, th, rid string) string {
	var b strings.Builder
	b.WriteString(appLine(t, "ERROR", th, "c.d.payments.service.LedgerService",
		fmt.Sprintf("requestId=%s ledger write failed, transaction rolled back", rid)))
	b.WriteString("\norg.springframework.dao.CannotAcquireLockException: could not execute statement [ERROR: could not serialize access due to concurrent update]")
	trace(&b,
		"org.springframework.orm.jpa.vendor.HibernateJpaDialect.convertHibernateAccessException(HibernateJpaDialect.java:262)",
		"org.springframework.orm.jpa.JpaTransactionManager.doCommit(JpaTransactionManager.java:565)",
		"com.dohyo.payments.service.LedgerService.record(LedgerService.java:103)",
		"com.dohyo.payments.service.PaymentService.authorize(PaymentService.java:96)")
	b.WriteString("\nCaused by: org.postgresql.util.PSQLException: ERROR: could not serialize access due to concurrent update")
	trace(&b,
		"org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2725)",
		"org.postgresql.core.v3.QueryExecutorImpl.processResults(QueryExecutorImpl.java:2412)",
		"org.postgresql.jdbc.PgStatement.executeInternal(PgStatement.java:517)")
	fmt.Fprintf(&b, "\n\t... %d common frames omitted", 30+rng.IntN(8))
	return b.String()
}

// poolExhausted is logged while the database is unreachable during an
// outage.
func (g *Generator) poolExhausted(rng *rand.Rand, t time.Time) string {
	var b strings.Builder
	th := thread(rng)
	b.WriteString(appLine(t, "ERROR", th, "o.h.engine.jdbc.spi.SqlExceptionHelper",
		"HikariPool-1 - Connection is not available, request timed out after 30000ms (total=20, active=20, idle=0, waiting=87)"))
	b.WriteString("\njava.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after 30000ms (total=20, active=20, idle=0, waiting=87)")
	trace(&b,
		"com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:686)",
		"com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:179)",
		"com.zaxxer.hikari.HikariDataSource.getConnection(HikariDataSource.java:100)",
		"com.dohyo.payments.service.LedgerService.record(LedgerService.java:88)")
	trace(&b, springFrames[:6]...)
	return b.String()
}
