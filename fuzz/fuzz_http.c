/* fuzz_http.c — libFuzzer target: the dashboard's HTTP handling. A dashboard with a bearer token
 * and one published worker listens on 127.0.0.1 (a port the kernel picks); each input is sent as
 * the bytes of one connection, half-closed, and the answer is read for up to a second. Every 64
 * inputs a well-formed request must be answered 200 within 5 s: the server keeps serving whatever
 * came before. (A request cut short by the half-close is sometimes held until the server's 30 s
 * connection timeout, not closed at once: libmicrohttpd 0.9.75 with epoll; fuzz/README.md.) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "stats/statpub.h"
#include "web/web.h"

static struct weir_web *web;
static unsigned port;

static void start(void)
{
	struct weir_statpub *p = weir_statpub_create(0, 1000000);
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	struct weir_worker *w = weir_worker_create(&cfg, 0);
	if (!p || !w)
		abort();
	struct weir_statpub_port ports = {.name = "pcap0", .rx_pkts = 7};
	struct weir_statpub_script sc = {.name = "x.lua", .events = 3, .handlers = 1};
	weir_statpub_publish(p, w, &ports, 1, &sc, 1, 1);
	weir_worker_free(w);
	static struct weir_statpub *pubs[1];
	pubs[0] = p;
	char err[256];
	const struct weir_web_config c = {.listen = "127.0.0.1:0", .token = "fuzz-token-0123456789",
	                                  .sample_ms = 10};
	web = weir_web_start(&c, pubs, 1, err, sizeof(err));
	if (!web) {
		fprintf(stderr, "fuzz_http: %s\n", err);
		abort();
	}
	port = weir_web_port(web);
}

/* Sends data on a new connection, half-closes it and reads the answer into buf (at most size - 1
 * bytes, NUL-terminated) until the server closes or timeout_s passes. */
static void exchange(const uint8_t *data, size_t size, int timeout_s, char *buf, size_t bufsize)
{
	buf[0] = '\0';
	const int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	const struct timeval tv = {.tv_sec = timeout_s};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		__builtin_trap(); /* the server stopped accepting */
	size_t off = 0;
	while (off < size) {
		const ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);
		if (n <= 0)
			break; /* the server closed early: an answer to what it had */
		off += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	size_t got = 0;
	ssize_t n;
	while ((n = recv(fd, buf + got, bufsize - 1 - got, 0)) > 0 && (got += (size_t)n) < bufsize - 1)
		;
	buf[got] = '\0';
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[65536];
	static unsigned runs;
	if (!web)
		start();
	exchange(data, size, 1, buf, sizeof(buf));
	if (++runs % 64 == 0) {
		static const char ok[] = "GET /api/stats HTTP/1.1\r\nHost: x\r\n"
		                         "Authorization: Bearer fuzz-token-0123456789\r\n\r\n";
		exchange((const uint8_t *)ok, sizeof(ok) - 1, 5, buf, sizeof(buf));
		if (strncmp(buf, "HTTP/1.1 200", 12) != 0)
			__builtin_trap(); /* the server stopped serving */
	}
	return 0;
}
