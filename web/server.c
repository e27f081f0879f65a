/* server.c — the dashboard's HTTP side: a control thread that samples the statpub slots and a libmicrohttpd daemon that serves the page, /api and /metrics. */
#define _GNU_SOURCE /* pthread_attr_setaffinity_np */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "config/config.h"
#include "web/web.h"
#include "web/web_int.h"
#include "web_assets.h"

/** MHD worker threads: enough to keep serving while one is busy copying a response; they never
 *  run on a worker core (see weir_web_config.cpus). */
#define HTTP_THREADS 2
/** Most open connections: above this MHD closes new ones at once. Kept under the fd limit. */
#define MAX_CONNECTIONS 2000
/** Per-connection memory: request line + headers must fit; bigger headers get 431. */
#define CONN_MEMORY (16 * 1024)
/** Idle connections are closed after this many seconds. */
#define CONN_TIMEOUT_S 30
#define DEFAULT_LISTEN "127.0.0.1:8080"

struct weir_web {
	struct MHD_Daemon *d;
	pthread_t th;
	pthread_mutex_t mu;          /* shared by the HTTP threads and the sampler only */
	pthread_cond_t cv;
	int started, start_rc, stop, refresh;
	char start_err[200];
	struct sockaddr_storage addr;
	char token[WEIR_TOKEN_MAX + 1]; /* zero-padded (token_eq reads it all) */
	int has_token;
	unsigned sample_ms, port;
	struct weir_model *model;
	char state[32];
	uint64_t reloads[2]; /* done, failed (weir_web_set_reloads), under mu */
	struct MHD_Response *docs[WEIR_DOC_COUNT]; /* current, under mu; replaced at each sample */
	struct MHD_Response *assets[5];
	struct MHD_Response *e400, *e401, *e404, *e405, *e500;
	struct MHD_Response *favicon;
};

static const struct {
	const char *path;
	enum weir_doc doc;
} api_routes[] = {
	{ "/api/stats", WEIR_DOC_STATS }, { "/api/cores", WEIR_DOC_CORES }, { "/api/ports", WEIR_DOC_PORTS },
	{ "/api/scripts", WEIR_DOC_SCRIPTS }, { "/api/flows", WEIR_DOC_FLOWS }, { "/api/alerts", WEIR_DOC_ALERTS },
	{ "/api/history", WEIR_DOC_HISTORY }, { "/api/all", WEIR_DOC_ALL }, { "/metrics", WEIR_DOC_METRICS },
};

static const struct {
	const char *path, *type;
	const unsigned char *data;
	const unsigned int *len;
} asset_routes[5] = {
	{ "/", "text/html; charset=utf-8", weir_asset_index_html, &weir_asset_index_html_len },
	{ "/app.js", "text/javascript; charset=utf-8", weir_asset_app_js, &weir_asset_app_js_len },
	{ "/app.css", "text/css; charset=utf-8", weir_asset_app_css, &weir_asset_app_css_len },
	{ "/vendor/uPlot.iife.min.js", "text/javascript; charset=utf-8", weir_asset_uplot_js, &weir_asset_uplot_js_len },
	{ "/vendor/uPlot.min.css", "text/css; charset=utf-8", weir_asset_uplot_css, &weir_asset_uplot_css_len },
};

/* ---- address and token ------------------------------------------------------------------------ */

int weir_web_parse_listen(const char *listen, struct sockaddr_storage *ss, int *loopback)
{
	char host[128];
	const char *colon, *h = listen;
	size_t hl;
	if (!listen)
		return -EINVAL;
	if (listen[0] == '[') {
		const char *e = strchr(listen, ']');
		if (!e || e[1] != ':')
			return -EINVAL;
		h = listen + 1, hl = (size_t)(e - h), colon = e + 1;
	} else {
		colon = strrchr(listen, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - listen);
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = 0;
	char *end;
	errno = 0;
	const long port = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port < 0 || port > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127; /* 127.0.0.0/8 */
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
		return 0;
	}
	return -EINVAL;
}

/* Compares a credential with the token (zero-padded to its full size) in time that depends only
 * on WEIR_TOKEN_MAX: every position is visited whatever the lengths and wherever the first
 * difference is. The only length looked at is the caller's own. */
static int token_eq(const char *given, const char token[WEIR_TOKEN_MAX + 1])
{
	const size_t n = strnlen(given, WEIR_TOKEN_MAX + 1);
	unsigned diff = n > WEIR_TOKEN_MAX;
	for (size_t i = 0; i < WEIR_TOKEN_MAX; i++)
		diff |= (unsigned char)token[i] ^ (unsigned char)(i < n ? given[i] : 0);
	return diff == 0;
}

enum auth { AUTH_NO, AUTH_OK, AUTH_SET_COOKIE };

/* The header or the cookie on every path; ?token= only on the page, to set the cookie. */
static enum auth authorize(const struct weir_web *web, struct MHD_Connection *c, const char *url)
{
	if (!web->has_token)
		return AUTH_OK;
	const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
	if (q && !strcmp(url, "/") && token_eq(q, web->token))
		return AUTH_SET_COOKIE;
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (h && !strncmp(h, "Bearer ", 7) && token_eq(h + 7, web->token))
		return AUTH_OK;
	const char *ck = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "weir_token");
	if (ck && token_eq(ck, web->token))
		return AUTH_OK;
	return AUTH_NO;
}

/* ---- responses -------------------------------------------------------------------------------- */

static struct MHD_Response *text_response(const char *body, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (r) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
		MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	}
	return r;
}

static int make_static(struct weir_web *web)
{
	for (int i = 0; i < 5; i++) {
		struct MHD_Response *r = MHD_create_response_from_buffer(*asset_routes[i].len,
		                                                         (void *)asset_routes[i].data,
		                                                         MHD_RESPMEM_PERSISTENT);
		if (!r)
			return -ENOMEM;
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, asset_routes[i].type);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
		MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
		web->assets[i] = r;
	}
	web->e400 = text_response("400 bad request\n", "text/plain; charset=utf-8");
	web->e401 = text_response("401 a bearer token is required\n", "text/plain; charset=utf-8");
	web->e404 = text_response("404 not found\n", "text/plain; charset=utf-8");
	web->e405 = text_response("405 only GET and HEAD\n", "text/plain; charset=utf-8");
	web->e500 = text_response("500 out of memory\n", "text/plain; charset=utf-8");
	web->favicon = text_response("", "image/x-icon");
	if (!web->e400 || !web->e401 || !web->e404 || !web->e405 || !web->e500 || !web->favicon)
		return -ENOMEM;
	MHD_add_response_header(web->e401, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"weir\"");
	MHD_add_response_header(web->e405, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	return 0;
}

static void destroy_responses(struct weir_web *web)
{
	struct MHD_Response **all[] = { &web->e400, &web->e401, &web->e404, &web->e405, &web->e500, &web->favicon };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (*all[i])
			MHD_destroy_response(*all[i]);
	for (int i = 0; i < 5; i++)
		if (web->assets[i])
			MHD_destroy_response(web->assets[i]);
	for (int i = 0; i < WEIR_DOC_COUNT; i++)
		if (web->docs[i])
			MHD_destroy_response(web->docs[i]);
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned code, struct MHD_Response *r)
{
	return r ? MHD_queue_response(c, code, r) : MHD_NO;
}

/* GET /?token=T: the cookie that carries the token from now on, and a redirect to / so that the
 * token leaves the address bar and the history (a browser cannot set headers on page loads). */
static enum MHD_Result set_cookie(struct weir_web *web, struct MHD_Connection *c)
{
	static const char body[] = "303 the token is now in a cookie: /\n";
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return queue(c, MHD_HTTP_INTERNAL_SERVER_ERROR, web->e500);
	char cookie[sizeof(web->token) + 64];
	snprintf(cookie, sizeof(cookie), "weir_token=%s; Path=/; HttpOnly; SameSite=Strict", web->token);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, "/");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	const enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_SEE_OTHER, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **req)
{
	struct weir_web *web = cls;
	(void)version;
	(void)upload;
	if (*upload_size) { /* a body on a GET: swallow it, the answer is the same */
		*upload_size = 0;
		return MHD_YES;
	}
	(void)req;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return queue(c, MHD_HTTP_METHOD_NOT_ALLOWED, web->e405);
	const enum auth auth = authorize(web, c, url);
	if (auth == AUTH_NO)
		return queue(c, MHD_HTTP_UNAUTHORIZED, web->e401);
	if (auth == AUTH_SET_COOKIE)
		return set_cookie(web, c);
	if (!strcmp(url, "/favicon.ico"))
		return queue(c, MHD_HTTP_NO_CONTENT, web->favicon);
	for (int i = 0; i < 5; i++) {
		if (strcmp(url, asset_routes[i].path) != 0)
			continue;
		return queue(c, MHD_HTTP_OK, web->assets[i]);
	}
	for (size_t i = 0; i < sizeof(api_routes) / sizeof(api_routes[0]); i++) {
		if (strcmp(url, api_routes[i].path) != 0)
			continue;
		pthread_mutex_lock(&web->mu);
		struct MHD_Response *r = web->docs[api_routes[i].doc];
		/* Queueing takes a reference: the sampler may replace the document right after. */
		const enum MHD_Result ret = r ? MHD_queue_response(c, MHD_HTTP_OK, r)
		                              : queue(c, MHD_HTTP_INTERNAL_SERVER_ERROR, web->e500);
		pthread_mutex_unlock(&web->mu);
		return ret;
	}
	return queue(c, MHD_HTTP_NOT_FOUND, web->e404);
}

/* ---- the sampler -------------------------------------------------------------------------------- */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Builds every document outside the lock, then swaps them in. */
static void sample(struct weir_web *web)
{
	struct MHD_Response *fresh[WEIR_DOC_COUNT] = { 0 };
	char state[sizeof(web->state)];
	pthread_mutex_lock(&web->mu);
	memcpy(state, web->state, sizeof(state));
	weir_model_set_reloads(web->model, web->reloads[0], web->reloads[1]);
	pthread_mutex_unlock(&web->mu);
	weir_model_sample(web->model, clock_ns(CLOCK_MONOTONIC), clock_ns(CLOCK_REALTIME) / 1000000, state);
	struct weir_sbuf b = { 0 };
	for (int d = 0; d < WEIR_DOC_COUNT; d++) {
		weir_model_render(web->model, (enum weir_doc)d, &b);
		if (b.oom || !b.p)
			continue; /* the previous document stays */
		fresh[d] = MHD_create_response_from_buffer(b.len, b.p, MHD_RESPMEM_MUST_COPY);
		if (!fresh[d])
			continue;
		MHD_add_response_header(fresh[d], MHD_HTTP_HEADER_CONTENT_TYPE,
		                        d == WEIR_DOC_METRICS ? "text/plain; version=0.0.4; charset=utf-8"
		                                              : "application/json");
		MHD_add_response_header(fresh[d], MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	}
	weir_sb_free(&b);
	pthread_mutex_lock(&web->mu);
	for (int d = 0; d < WEIR_DOC_COUNT; d++) {
		if (!fresh[d])
			continue;
		struct MHD_Response *old = web->docs[d];
		web->docs[d] = fresh[d];
		fresh[d] = old;
	}
	pthread_mutex_unlock(&web->mu);
	for (int d = 0; d < WEIR_DOC_COUNT; d++)
		if (fresh[d])
			MHD_destroy_response(fresh[d]); /* freed once the last connection using it is done */
}

static unsigned connection_limit(void)
{
	struct rlimit rl;
	unsigned lim = MAX_CONNECTIONS;
	/* Leave room for the engine's own descriptors (captures, logs, the listener). */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < lim + 64)
		lim = rl.rlim_cur > 128 ? (unsigned)rl.rlim_cur - 64 : 64;
	return lim;
}

static int start_daemon(struct weir_web *web)
{
	const unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD |
	                       (web->addr.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	web->d = MHD_start_daemon(flags, 0, NULL, NULL, handler, web,
	                          MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&web->addr,
	                          MHD_OPTION_THREAD_POOL_SIZE, (unsigned)HTTP_THREADS,
	                          MHD_OPTION_CONNECTION_LIMIT, connection_limit(),
	                          MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
	                          MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
	                          MHD_OPTION_END);
	if (!web->d)
		return -1;
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(web->d, MHD_DAEMON_INFO_BIND_PORT);
	web->port = di ? di->port : 0;
	return 0;
}

static void *control_thread(void *arg)
{
	struct weir_web *web = arg;
	const int rc = start_daemon(web);
	if (rc == 0)
		sample(web); /* documents exist before the first request */
	pthread_mutex_lock(&web->mu);
	web->started = 1;
	web->start_rc = rc;
	if (rc)
		snprintf(web->start_err, sizeof(web->start_err), "%s", strerror(errno ? errno : EADDRINUSE));
	pthread_cond_broadcast(&web->cv);
	pthread_mutex_unlock(&web->mu);
	if (rc)
		return NULL;
	pthread_mutex_lock(&web->mu);
	while (!web->stop) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		const uint64_t ns = (uint64_t)until.tv_nsec + (uint64_t)web->sample_ms * 1000000ull;
		until.tv_sec += (time_t)(ns / 1000000000ull);
		until.tv_nsec = (long)(ns % 1000000000ull);
		while (!web->stop && !web->refresh && pthread_cond_timedwait(&web->cv, &web->mu, &until) == 0)
			;
		if (web->stop)
			break;
		web->refresh = 0;
		pthread_mutex_unlock(&web->mu);
		sample(web);
		pthread_mutex_lock(&web->mu);
	}
	pthread_mutex_unlock(&web->mu);
	return NULL;
}

/* ---- lifetime ----------------------------------------------------------------------------------- */

static void web_free(struct weir_web *web)
{
	destroy_responses(web);
	weir_model_free(web->model);
	pthread_cond_destroy(&web->cv);
	pthread_mutex_destroy(&web->mu);
	free(web);
}

static int web_init(struct weir_web *web, const struct weir_web_config *cfg, struct weir_statpub *const *pubs,
                    unsigned npubs, char *err, size_t errlen)
{
	const char *listen = cfg->listen && *cfg->listen ? cfg->listen : DEFAULT_LISTEN;
	int loopback = 0;
	if (weir_web_parse_listen(listen, &web->addr, &loopback) != 0) {
		snprintf(err, errlen, "dashboard: '%s' is not ADDRESS:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)", listen);
		return -EINVAL;
	}
	const int has_token = cfg->token && *cfg->token;
	if (!loopback && !has_token) {
		snprintf(err, errlen,
		         "dashboard: listening on %s (not loopback) needs a bearer token: set dashboard.token "
		         "(or listen on 127.0.0.1)", listen);
		return -EINVAL;
	}
	char why[128];
	if (has_token && weir_token_check(cfg->token, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "dashboard: token: %s", why);
		return -EINVAL;
	}
	if (has_token) {
		snprintf(web->token, sizeof(web->token), "%s", cfg->token);
		web->has_token = 1;
	}
	web->sample_ms = cfg->sample_ms ? cfg->sample_ms : 1000;
	const unsigned hist_s = cfg->history_s ? cfg->history_s : 300;
	const unsigned hist_n = (unsigned)((uint64_t)hist_s * 1000 / web->sample_ms) + 1;
	web->model = weir_model_create(pubs, npubs, hist_n, cfg->mode, clock_ns(CLOCK_REALTIME) / 1000000);
	snprintf(web->state, sizeof(web->state), "running");
	if (!web->model || make_static(web) != 0) {
		snprintf(err, errlen, "dashboard: out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int sync_init(struct weir_web *web)
{
	pthread_condattr_t ca;
	if (pthread_mutex_init(&web->mu, NULL) != 0)
		return -1;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	const int rc = pthread_cond_init(&web->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (rc) {
		pthread_mutex_destroy(&web->mu);
		return -1;
	}
	return 0;
}

struct weir_web *weir_web_start(const struct weir_web_config *cfg, struct weir_statpub *const *pubs,
                                unsigned npubs, char *err, size_t errlen)
{
	struct weir_web *web = calloc(1, sizeof(*web));
	if (!web || sync_init(web) != 0) {
		snprintf(err, errlen, "dashboard: out of memory");
		free(web);
		return NULL;
	}
	if (web_init(web, cfg, pubs, npubs, err, errlen) != 0) {
		web_free(web);
		return NULL;
	}
	pthread_attr_t at;
	pthread_attr_init(&at);
	/* The daemon's threads are created by the control thread and inherit its CPUs. */
	if (cfg->cpus)
		pthread_attr_setaffinity_np(&at, sizeof(*cfg->cpus), cfg->cpus);
	const int rc = pthread_create(&web->th, &at, control_thread, web);
	pthread_attr_destroy(&at);
	if (rc) {
		snprintf(err, errlen, "dashboard: cannot start its thread: %s", strerror(rc));
		web_free(web);
		return NULL;
	}
	pthread_mutex_lock(&web->mu);
	while (!web->started)
		pthread_cond_wait(&web->cv, &web->mu);
	pthread_mutex_unlock(&web->mu);
	if (web->start_rc) {
		snprintf(err, errlen, "dashboard: cannot listen on %s: %s",
		         cfg->listen && *cfg->listen ? cfg->listen : DEFAULT_LISTEN, web->start_err);
		pthread_join(web->th, NULL);
		web_free(web);
		return NULL;
	}
	return web;
}

void weir_web_set_state(struct weir_web *web, const char *state)
{
	pthread_mutex_lock(&web->mu);
	snprintf(web->state, sizeof(web->state), "%s", state);
	pthread_mutex_unlock(&web->mu);
}

void weir_web_set_reloads(struct weir_web *web, uint64_t done, uint64_t failed)
{
	pthread_mutex_lock(&web->mu);
	web->reloads[0] = done;
	web->reloads[1] = failed;
	pthread_mutex_unlock(&web->mu);
}

void weir_web_refresh(struct weir_web *web)
{
	pthread_mutex_lock(&web->mu);
	web->refresh = 1;
	pthread_cond_broadcast(&web->cv);
	pthread_mutex_unlock(&web->mu);
}

unsigned weir_web_port(const struct weir_web *web)
{
	return web->port;
}

void weir_web_stop(struct weir_web *web)
{
	if (!web)
		return;
	pthread_mutex_lock(&web->mu);
	web->stop = 1;
	pthread_cond_broadcast(&web->cv);
	pthread_mutex_unlock(&web->mu);
	pthread_join(web->th, NULL);
	MHD_stop_daemon(web->d);
	web_free(web);
}
