#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <openssl/rand.h>

#include "common/log.h"
#include "signer/ratelog.h"
#include "signer/responder.h"
#include "signer/server.h"
#include "signer/tsig.h"
#include "signer/wire.h"

/* Transfer messages are generated while less than this is queued for a client. */
#define TCP_OUTPUT_QUEUE 131072
/* UDP datagrams read per readiness event, so one busy socket cannot starve the rest. */
#define UDP_BATCH 32
#define LISTEN_BACKLOG 64
/* Tries to find a port free for both UDP and TCP when the configuration gives port 0. */
#define PORT_ATTEMPTS 20

typedef struct udp_listener {
	int fd;
	int family;
	int port;
	struct event *event;
} udp_listener_t;

typedef struct tcp_conn tcp_conn_t;

struct tcp_conn {
	dz_server_t *server;
	struct bufferevent *bev;
	struct sockaddr_storage peer;
	char peer_text[DZ_SERVER_ADDRESS_TEXT_MAX];
	dz_transfer_t *transfer;
	struct timespec transfer_start; /* CLOCK_MONOTONIC */
	uint64_t transfer_bytes;
	bool closing; /* the client shut down its side: close once the output is sent */
	tcp_conn_t *prev;
	tcp_conn_t *next;
};

typedef struct notify_job notify_job_t;

struct notify_job {
	dz_server_t *server;
	size_t zone;
	size_t secondary;
	const dz_tsig_key_t *key; /* NULL: unsigned */
	dz_tsig_context_t tsig;
	uint32_t serial;
	dz_buf_t soa; /* the SOA RR of `serial`, sent in the answer section */
	uint16_t id;
	unsigned attempts;
	unsigned interval_ms;
	struct event *timer;
	notify_job_t *next;
};

typedef struct notify_socket {
	int fd;
	struct event *event;
} notify_socket_t;

struct dz_server {
	struct event_base *base;
	const dz_server_config_t *config;
	dz_clock_t *clock;
	dz_responder_t *responder;
	uint32_t *serials; /* per zone, 0 until loaded */
	udp_listener_t *udp;
	size_t udp_count;
	struct evconnlistener **tcp;
	size_t tcp_count;
	tcp_conn_t *conns;
	unsigned conn_count;
	notify_socket_t notify_v4;
	notify_socket_t notify_v6;
	notify_job_t *jobs;
	uint8_t query[DZ_WIRE_MESSAGE_MAX + 1];
	uint8_t out[DZ_WIRE_MESSAGE_MAX + 2];
	dz_ratelog_t log_tcp_limit;
	dz_ratelog_t log_tcp_close;
	dz_ratelog_t log_io;
	dz_ratelog_t log_notify;
};

static dz_time_t
server_now(const dz_server_t *server)
{
	return dz_clock_now(server->clock);
}

/* ---- UDP ---------------------------------------------------------------- */

static void
udp_read(evutil_socket_t fd, short what, void *arg)
{
	dz_server_t *server = arg;

	(void)what;
	for (int i = 0; i < UDP_BATCH; i++) {
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof(peer);
		ssize_t n = recvfrom(fd, server->query, sizeof(server->query), 0,
				     (struct sockaddr *)&peer, &peer_len);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				dz_ratelog(&server->log_io, server_now(server), DZ_LOG_WARNING,
					   "UDP receive failed: %s", strerror(errno));
			return;
		}
		dz_response_t response;
		dz_responder_handle(server->responder, DZ_TRANSPORT_UDP, (struct sockaddr *)&peer,
				    server->query, (size_t)n, server_now(server), server->out,
				    sizeof(server->out), &response);
		if (response.kind != DZ_RESPONSE_REPLY)
			continue;
		if (sendto(fd, server->out, response.reply_len, 0, (struct sockaddr *)&peer,
			   peer_len) < 0) {
			char text[DZ_SERVER_ADDRESS_TEXT_MAX];
			dz_server_address_format((struct sockaddr *)&peer, text, sizeof(text));
			dz_ratelog(&server->log_io, server_now(server), DZ_LOG_WARNING,
				   "UDP send to %s failed: %s", text, strerror(errno));
		}
	}
}

/* Port of an IPv4 or IPv6 address (0 in a configuration: the system chooses). */
static int
address_port(const struct sockaddr_storage *address)
{
	if (address->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)address)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)address)->sin6_port);
}

/* Port of a bound socket, or 0. */
static int
bound_port(int fd)
{
	struct sockaddr_storage address;
	socklen_t len = sizeof(address);

	if (getsockname(fd, (struct sockaddr *)&address, &len) != 0)
		return 0;
	return address_port(&address);
}

static void
set_port(dz_server_address_t *address, int port)
{
	if (address->address.ss_family == AF_INET)
		((struct sockaddr_in *)&address->address)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&address->address)->sin6_port = htons((uint16_t)port);
}

/* Open a socket of `type` bound to `address`; -1 with err set on failure. */
static int
open_bound_socket(const dz_server_address_t *address, int type, dz_error_t *err)
{
	char text[DZ_SERVER_ADDRESS_TEXT_MAX];
	int family = address->address.ss_family;
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int on = 1;

	dz_server_address_format((const struct sockaddr *)&address->address, text, sizeof(text));
	if (fd < 0) {
		dz_error_set(err, DZ_EIO, "cannot create a socket for %s: %s", text, strerror(errno));
		return -1;
	}
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, (const struct sockaddr *)&address->address, address->address_len) != 0) {
		dz_error_set(err, errno == EACCES ? DZ_EPERM : DZ_EIO,
			     "cannot bind %s to %s: %s; is another server listening there?",
			     type == SOCK_STREAM ? "TCP" : "UDP", text, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- TCP ---------------------------------------------------------------- */

static void tcp_process(tcp_conn_t *conn);

static void
tcp_close(tcp_conn_t *conn)
{
	dz_server_t *server = conn->server;

	dz_transfer_destroy(conn->transfer);
	bufferevent_free(conn->bev);
	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		server->conns = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	server->conn_count--;
	free(conn);
}

static void
tcp_set_idle(tcp_conn_t *conn, bool reading)
{
	struct timeval idle = {
		.tv_sec = conn->server->config->tcp_idle_ms / 1000,
		.tv_usec = (conn->server->config->tcp_idle_ms % 1000) * 1000,
	};

	/* During a transfer only the writing side has to make progress. */
	bufferevent_set_timeouts(conn->bev, reading ? &idle : NULL, &idle);
}

/* Queue one message with its two-byte length (RFC 1035 section 4.2.2). */
static bool
tcp_queue(tcp_conn_t *conn, const uint8_t *msg, size_t len)
{
	uint8_t prefix[2];

	dz_wire_put_u16(prefix, (uint16_t)len);
	return bufferevent_write(conn->bev, prefix, 2) == 0 &&
	       bufferevent_write(conn->bev, msg, len) == 0;
}

/* Log the size and duration of a transfer whose last message is queued. */
static void
tcp_log_transfer(const tcp_conn_t *conn)
{
	struct timespec now;
	unsigned messages;
	uint64_t rrs;
	const char *zone;
	uint32_t serial;

	if (!dz_log_enabled(DZ_LOG_INFO))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double ms = (double)(now.tv_sec - conn->transfer_start.tv_sec) * 1e3 +
		    (double)(now.tv_nsec - conn->transfer_start.tv_nsec) / 1e6;
	dz_transfer_summary(conn->transfer, &messages, &rrs, &zone, &serial);
	dz_log_zone(DZ_LOG_INFO, zone,
		    "%s of serial %" PRIu32 " to %s queued: %u messages, %" PRIu64
		    " RRs, %" PRIu64 " bytes in %.1f ms",
		    dz_transfer_kind(conn->transfer), serial, conn->peer_text, messages, rrs,
		    conn->transfer_bytes, ms);
}

/* Generate transfer messages until the output queue is full or the transfer ends. */
static bool
tcp_pump(tcp_conn_t *conn)
{
	dz_server_t *server = conn->server;
	struct evbuffer *output = bufferevent_get_output(conn->bev);

	while (conn->transfer != NULL && evbuffer_get_length(output) < TCP_OUTPUT_QUEUE) {
		size_t len = 0;
		bool done = false;
		dz_result_t result = dz_transfer_next(conn->transfer, server->out, DZ_WIRE_MESSAGE_MAX,
						      &len, &done, server_now(server));
		if (result != DZ_OK) {
			dz_log(DZ_LOG_ERROR, "transfer to %s abandoned: %s", conn->peer_text,
			       result == DZ_EZONE ? "an RR does not fit in a DNS message"
						  : dz_result_text(result));
			return false;
		}
		if (!tcp_queue(conn, server->out, len))
			return false;
		conn->transfer_bytes += 2 + len;
		if (done) {
			tcp_log_transfer(conn);
			dz_transfer_destroy(conn->transfer);
			conn->transfer = NULL;
			tcp_set_idle(conn, true);
		}
	}
	return true;
}

/* Handle the complete requests in the input buffer, one at a time. */
static void
tcp_process(tcp_conn_t *conn)
{
	dz_server_t *server = conn->server;
	struct evbuffer *input = bufferevent_get_input(conn->bev);

	while (conn->transfer == NULL) {
		uint8_t prefix[2];
		size_t available = evbuffer_get_length(input);
		if (available < 2)
			return;
		evbuffer_copyout(input, prefix, 2);
		size_t len = dz_wire_get_u16(prefix);
		if (len > DZ_SERVER_QUERY_MAX || len < DZ_WIRE_HEADER_SIZE) {
			dz_ratelog(&server->log_tcp_close, server_now(server), DZ_LOG_INFO,
				   "closed TCP connection from %s: %zu-byte request", conn->peer_text,
				   len);
			tcp_close(conn);
			return;
		}
		if (available < 2 + len)
			return;
		evbuffer_drain(input, 2);
		evbuffer_remove(input, server->query, len);

		dz_response_t response;
		dz_responder_handle(server->responder, DZ_TRANSPORT_TCP,
				    (struct sockaddr *)&conn->peer, server->query, len,
				    server_now(server), server->out, sizeof(server->out), &response);
		if (response.kind == DZ_RESPONSE_DROP) {
			tcp_close(conn);
			return;
		}
		if (response.kind == DZ_RESPONSE_REPLY) {
			if (!tcp_queue(conn, server->out, response.reply_len)) {
				tcp_close(conn);
				return;
			}
			continue;
		}
		conn->transfer = response.transfer;
		conn->transfer_bytes = 0;
		clock_gettime(CLOCK_MONOTONIC, &conn->transfer_start);
		tcp_set_idle(conn, false);
		if (!tcp_pump(conn)) {
			tcp_close(conn);
			return;
		}
	}
}

static void
tcp_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	tcp_process(arg);
}

/* Close after the queued output is sent: the write callback runs when it is empty. */
static void
tcp_close_after_output(tcp_conn_t *conn)
{
	conn->closing = true;
	bufferevent_disable(conn->bev, EV_READ);
	bufferevent_setwatermark(conn->bev, EV_WRITE, 0, 0);
	if (conn->transfer == NULL && evbuffer_get_length(bufferevent_get_output(conn->bev)) == 0)
		tcp_close(conn);
}

static void
tcp_write_cb(struct bufferevent *bev, void *arg)
{
	tcp_conn_t *conn = arg;

	(void)bev;
	if (conn->transfer != NULL && !tcp_pump(conn)) {
		tcp_close(conn);
		return;
	}
	if (conn->transfer != NULL)
		return;
	if (conn->closing) {
		if (evbuffer_get_length(bufferevent_get_output(conn->bev)) == 0)
			tcp_close(conn);
		return;
	}
	tcp_process(conn);
}

static void
tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	tcp_conn_t *conn = arg;
	dz_server_t *server = conn->server;

	(void)bev;
	if ((what & BEV_EVENT_EOF) && (what & BEV_EVENT_READING) && !conn->closing) {
		/* A client may shut down its side after the request and still read the reply. */
		tcp_close_after_output(conn);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		dz_ratelog(&server->log_tcp_close, server_now(server), DZ_LOG_INFO,
			   "closed TCP connection from %s: no progress for %u ms%s", conn->peer_text,
			   server->config->tcp_idle_ms,
			   conn->transfer != NULL ? " during a transfer" : "");
	} else if ((what & BEV_EVENT_ERROR) && conn->transfer != NULL) {
		dz_ratelog(&server->log_tcp_close, server_now(server), DZ_LOG_INFO,
			   "TCP connection from %s failed during a transfer: %s", conn->peer_text,
			   strerror(EVUTIL_SOCKET_ERROR()));
	}
	tcp_close(conn);
}

static void
tcp_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *peer,
	   int peer_len, void *arg)
{
	dz_server_t *server = arg;
	char text[DZ_SERVER_ADDRESS_TEXT_MAX];

	(void)listener;
	dz_server_address_format(peer, text, sizeof(text));
	if (server->conn_count >= server->config->tcp_clients_max) {
		dz_ratelog(&server->log_tcp_limit, server_now(server), DZ_LOG_WARNING,
			   "closed TCP connection from %s: the limit of %u connections is reached",
			   text, server->config->tcp_clients_max);
		evutil_closesocket(fd);
		return;
	}
	tcp_conn_t *conn = calloc(1, sizeof(*conn));
	if (conn == NULL) {
		evutil_closesocket(fd);
		return;
	}
	conn->server = server;
	memcpy(&conn->peer, peer, (size_t)peer_len < sizeof(conn->peer) ? (size_t)peer_len
									: sizeof(conn->peer));
	snprintf(conn->peer_text, sizeof(conn->peer_text), "%s", text);
	conn->bev = bufferevent_socket_new(server->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (conn->bev == NULL) {
		evutil_closesocket(fd);
		free(conn);
		return;
	}
	bufferevent_setcb(conn->bev, tcp_read_cb, tcp_write_cb, tcp_event_cb, conn);
	/* The write callback runs when the queue drains below half, to refill it. */
	bufferevent_setwatermark(conn->bev, EV_WRITE, TCP_OUTPUT_QUEUE / 2, 0);
	/* Stop reading while a request of the maximum size is buffered. */
	bufferevent_setwatermark(conn->bev, EV_READ, 0, 2 * (DZ_SERVER_QUERY_MAX + 2));
	tcp_set_idle(conn, true);
	bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
	conn->next = server->conns;
	if (server->conns != NULL)
		server->conns->prev = conn;
	server->conns = conn;
	server->conn_count++;
}

/* ---- NOTIFY ------------------------------------------------------------- */

static void notify_send(evutil_socket_t fd, short what, void *arg);

static void
notify_job_free(dz_server_t *server, notify_job_t *job)
{
	notify_job_t **p = &server->jobs;

	while (*p != NULL && *p != job)
		p = &(*p)->next;
	if (*p == job)
		*p = job->next;
	if (job->timer != NULL)
		event_free(job->timer);
	dz_buf_clear(&job->soa);
	free(job);
}

/* Find the TSIG RR at the end of a message; true with the record when there is one. */
static bool
find_tsig(const uint8_t *msg, size_t len, dz_tsig_record_t *record)
{
	size_t pos = DZ_WIRE_HEADER_SIZE;
	unsigned qdcount = dz_wire_get_u16(msg + 4);
	unsigned rrs = (unsigned)dz_wire_get_u16(msg + 6) + dz_wire_get_u16(msg + 8) +
		       dz_wire_get_u16(msg + 10);

	for (unsigned i = 0; i < qdcount; i++) {
		if (dz_wire_msg_skip_name(msg, len, &pos) != DZ_OK || len - pos < 4)
			return false;
		pos += 4;
	}
	for (unsigned i = 0; i < rrs; i++) {
		size_t start = pos;
		if (dz_wire_msg_skip_name(msg, len, &pos) != DZ_OK || len - pos < 10)
			return false;
		uint16_t type = dz_wire_get_u16(msg + pos);
		size_t rdlength = dz_wire_get_u16(msg + pos + 8);
		pos += 10;
		if (len - pos < rdlength)
			return false;
		pos += rdlength;
		if (i == rrs - 1 && type == DZ_TYPE_TSIG && pos == len)
			return dz_tsig_record_parse(msg, len, start, record) == DZ_OK;
	}
	return false;
}

static void
notify_read(evutil_socket_t fd, short what, void *arg)
{
	dz_server_t *server = arg;
	dz_time_t now = server_now(server);

	(void)what;
	for (int i = 0; i < UDP_BATCH; i++) {
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof(peer);
		ssize_t n = recvfrom(fd, server->query, sizeof(server->query), 0,
				     (struct sockaddr *)&peer, &peer_len);
		if (n < 0)
			return;
		if ((size_t)n < DZ_WIRE_HEADER_SIZE)
			continue;
		const uint8_t *msg = server->query;
		uint16_t id = dz_wire_get_u16(msg);
		uint16_t flags = dz_wire_get_u16(msg + 2);
		if (!(flags & DZ_FLAG_QR) || ((flags >> 11) & 0x0f) != DZ_OPCODE_NOTIFY)
			continue;

		notify_job_t *job = server->jobs;
		for (; job != NULL; job = job->next) {
			const dz_server_secondary_t *secondary =
				&server->config->zones[job->zone].secondaries[job->secondary];
			if (job->id == id && peer_len == secondary->address.address_len &&
			    memcmp(&peer, &secondary->address.address, peer_len) == 0)
				break;
		}
		char text[DZ_SERVER_ADDRESS_TEXT_MAX];
		dz_server_address_format((struct sockaddr *)&peer, text, sizeof(text));
		if (job == NULL) {
			dz_ratelog(&server->log_notify, now, DZ_LOG_INFO,
				   "ignored a NOTIFY response with ID %u from %s: no NOTIFY pending",
				   id, text);
			continue;
		}
		const char *zone = server->config->zones[job->zone].name;
		if (job->key != NULL) {
			dz_tsig_record_t record;
			int error = find_tsig(msg, (size_t)n, &record)
					    ? dz_tsig_verify_response(&job->tsig, msg, (size_t)n,
								      &record, now)
					    : DZ_TSIG_BADSIG;
			if (error != 0) {
				dz_ratelog(&server->log_notify, now, DZ_LOG_WARNING,
					   "zone %s: NOTIFY response from %s failed TSIG verification "
					   "with key %s (error %d); retrying",
					   zone, text, job->key->name_text, error);
				continue;
			}
		}
		int rcode = flags & 0x0f;
		if (rcode != DZ_RCODE_NOERROR) {
			dz_ratelog(&server->log_notify, now, DZ_LOG_WARNING,
				   "zone %s: %s answered NOTIFY for serial %" PRIu32
				   " with RCODE %d; retrying",
				   zone, text, job->serial, rcode);
			continue;
		}
		dz_log_zone(DZ_LOG_INFO, zone,
			    "NOTIFY for serial %" PRIu32 " acknowledged by %s after %u attempt%s",
			    job->serial, text, job->attempts, job->attempts == 1 ? "" : "s");
		notify_job_free(server, job);
	}
}

/* Whether `address` is a loopback address (127.0.0.0/8 or ::1). */
static bool
is_loopback(const struct sockaddr_storage *address)
{
	if (address->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)address)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)address)->sin6_addr);
}

/*
 * The NOTIFY socket for sending to `destination`, opened on first use;
 * NULL with a log line on failure.  It sends from the first listening
 * address of the destination's family, so that secondaries see the
 * address they transfer from.  Without one, only a loopback destination
 * gets NOTIFY, from the loopback address: a wildcard address would let
 * the kernel pick a source that the secondary does not know.
 */
static notify_socket_t *
notify_socket(dz_server_t *server, const dz_server_address_t *destination, const char *zone)
{
	int family = destination->address.ss_family;
	notify_socket_t *ns = family == AF_INET ? &server->notify_v4 : &server->notify_v6;
	char text[DZ_SERVER_ADDRESS_TEXT_MAX];
	const dz_server_address_t *listen = NULL;

	for (size_t i = 0; i < server->config->listen_count; i++) {
		if (server->config->listen[i].address.ss_family == family) {
			listen = &server->config->listen[i];
			break;
		}
	}
	if (listen == NULL && !is_loopback(&destination->address)) {
		dz_server_address_format((const struct sockaddr *)&destination->address, text,
					 sizeof(text));
		dz_ratelog(&server->log_notify, server_now(server), DZ_LOG_ERROR,
			   "zone %s: cannot send NOTIFY to %s: no %s listen address to send it from; "
			   "add one to the server's listen addresses",
			   zone, text, family == AF_INET ? "IPv4" : "IPv6");
		return NULL;
	}
	if (ns->event != NULL)
		return ns;
	dz_server_address_t source;
	memset(&source, 0, sizeof(source));
	if (listen != NULL) {
		source = *listen;
		set_port(&source, 0);
	} else if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&source.address;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		source.address_len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&source.address;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		source.address_len = sizeof(*sin6);
	}
	dz_error_t err;
	dz_error_init(&err);
	ns->fd = open_bound_socket(&source, SOCK_DGRAM, &err);
	if (ns->fd < 0) {
		dz_log(DZ_LOG_ERROR, "NOTIFY: %s", dz_error_message(&err));
		return NULL;
	}
	ns->event = event_new(server->base, ns->fd, EV_READ | EV_PERSIST, notify_read, server);
	if (ns->event == NULL || event_add(ns->event, NULL) != 0) {
		close(ns->fd);
		if (ns->event != NULL)
			event_free(ns->event);
		ns->event = NULL;
		return NULL;
	}
	return ns;
}

/* Build and send one NOTIFY attempt, then schedule the next. */
static void
notify_send(evutil_socket_t fd, short what, void *arg)
{
	notify_job_t *job = arg;
	dz_server_t *server = job->server;
	const dz_server_zone_config_t *zone = &server->config->zones[job->zone];
	const dz_server_secondary_t *secondary = &zone->secondaries[job->secondary];
	dz_time_t now = server_now(server);
	char text[DZ_SERVER_ADDRESS_TEXT_MAX];
	uint8_t origin[DZ_WIRE_NAME_MAX];
	size_t origin_len = dz_wire_name_from_text(zone->name, origin);
	dz_wire_builder_t b;

	(void)fd;
	(void)what;
	dz_server_address_format((const struct sockaddr *)&secondary->address.address, text,
				 sizeof(text));
	if (RAND_bytes((unsigned char *)&job->id, sizeof(job->id)) != 1)
		job->id = (uint16_t)(job->id * 31 + 7);
	dz_wire_builder_init(&b, server->out, DZ_WIRE_MESSAGE_MAX - 600, job->id,
			     (uint16_t)(DZ_OPCODE_NOTIFY << 11) | DZ_FLAG_AA);
	dz_wire_builder_question(&b, origin, origin_len, DZ_TYPE_SOA, DZ_CLASS_IN);
	/* RFC 1996 section 3.7: the new SOA may go in the answer section, as BIND sends it. */
	dz_wire_rr_t soa;
	size_t soa_offset = 0;
	if (job->soa.len > 0 && dz_wire_rr_parse(job->soa.data, job->soa.len, &soa_offset, &soa) == DZ_OK)
		dz_wire_builder_rr(&b, 1, &soa);
	size_t len = b.len;
	if (job->key != NULL) {
		dz_tsig_context_init(&job->tsig, job->key);
		dz_tsig_sign(&job->tsig, server->out, &len, DZ_WIRE_MESSAGE_MAX, now, 0);
	}

	job->attempts++;
	notify_socket_t *ns = notify_socket(server, &secondary->address, zone->name);
	if (ns != NULL && sendto(ns->fd, server->out, len, 0,
				 (const struct sockaddr *)&secondary->address.address,
				 secondary->address.address_len) < 0)
		dz_ratelog(&server->log_notify, now, DZ_LOG_WARNING,
			   "zone %s: sending NOTIFY to %s failed: %s", zone->name, text,
			   strerror(errno));
	if (job->attempts == 3 || (job->attempts > 3 && job->attempts % 10 == 0))
		dz_log_zone(DZ_LOG_WARNING, zone->name,
			    "NOTIFY for serial %" PRIu32 " to %s not acknowledged after %u attempts; "
			    "retrying in %u ms",
			    job->serial, text, job->attempts, job->interval_ms);

	struct timeval tv = { .tv_sec = job->interval_ms / 1000,
			      .tv_usec = (job->interval_ms % 1000) * 1000 };
	evtimer_add(job->timer, &tv);
	unsigned next = job->interval_ms * 2;
	job->interval_ms = next < server->config->notify_retry_max_ms
				   ? next
				   : server->config->notify_retry_max_ms;
}

/* Start NOTIFY of `serial` to every secondary of zone `index`, replacing older ones. */
static void
notify_zone(dz_server_t *server, size_t index, uint32_t serial)
{
	const dz_server_zone_config_t *zone = &server->config->zones[index];

	for (notify_job_t *job = server->jobs, *next; job != NULL; job = next) {
		next = job->next;
		if (job->zone == index)
			notify_job_free(server, job);
	}
	for (size_t i = 0; i < zone->secondary_count; i++) {
		const dz_server_secondary_t *secondary = &zone->secondaries[i];
		notify_job_t *job = calloc(1, sizeof(*job));
		if (job == NULL)
			continue;
		job->server = server;
		job->zone = index;
		job->secondary = i;
		job->serial = serial;
		job->interval_ms = server->config->notify_retry_ms;
		dz_buf_init(&job->soa);
		const dz_wire_rr_t *soa = dz_responder_zone_soa(server->responder, index);
		if (soa != NULL && dz_buf_append(&job->soa, soa->start, soa->len) != DZ_OK)
			job->soa.len = 0;
		if (secondary->key_name != NULL) {
			uint8_t wire[DZ_WIRE_NAME_MAX];
			dz_wire_name_from_text(secondary->key_name, wire);
			job->key = dz_server_config_find_key(server->config, wire);
		}
		job->timer = evtimer_new(server->base, notify_send, job);
		if (job->timer == NULL) {
			dz_buf_clear(&job->soa);
			free(job);
			continue;
		}
		job->next = server->jobs;
		server->jobs = job;
		notify_send(-1, 0, job);
	}
}

unsigned
dz_server_notify_pending(const dz_server_t *server)
{
	unsigned count = 0;

	for (const notify_job_t *job = server->jobs; job != NULL; job = job->next)
		count++;
	return count;
}

/* ---- Life cycle --------------------------------------------------------- */

void
dz_server_sockets_close(dz_server_sockets_t *sockets)
{
	for (size_t i = 0; i < sockets->count; i++) {
		if (sockets->udp[i] >= 0)
			close(sockets->udp[i]);
		if (sockets->tcp[i] >= 0)
			close(sockets->tcp[i]);
	}
	free(sockets->udp);
	free(sockets->tcp);
	memset(sockets, 0, sizeof(*sockets));
}

dz_result_t
dz_server_sockets_open(const dz_server_config_t *config, dz_server_sockets_t *out,
		       dz_error_t *err)
{
	dz_server_sockets_t sockets = { 0 };
	dz_result_t result = DZ_OK;

	sockets.udp = calloc(config->listen_count + 1, sizeof(*sockets.udp));
	sockets.tcp = calloc(config->listen_count + 1, sizeof(*sockets.tcp));
	if (sockets.udp == NULL || sockets.tcp == NULL) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < config->listen_count; i++) {
		dz_server_address_t address = config->listen[i];
		bool any_port = address_port(&config->listen[i].address) == 0;
		sockets.tcp[i] = -1;
		sockets.count++;
		/*
		 * Port 0 takes the port the UDP socket got, so both share it.  A
		 * TCP socket may already use that number, then another is tried.
		 */
		for (unsigned attempt = 0;; attempt++) {
			address = config->listen[i];
			sockets.udp[i] = open_bound_socket(&address, SOCK_DGRAM, err);
			if (sockets.udp[i] < 0)
				break;
			set_port(&address, bound_port(sockets.udp[i]));
			sockets.tcp[i] = open_bound_socket(&address, SOCK_STREAM, err);
			if (sockets.tcp[i] >= 0 || !any_port || attempt >= PORT_ATTEMPTS)
				break;
			close(sockets.udp[i]);
			sockets.udp[i] = -1;
		}
		if (sockets.udp[i] < 0) {
			result = err != NULL ? err->code : DZ_EIO;
			goto cleanup;
		}
		if (sockets.tcp[i] < 0) {
			result = err != NULL ? err->code : DZ_EIO;
			goto cleanup;
		}
		if (listen(sockets.tcp[i], LISTEN_BACKLOG) != 0) {
			result = dz_error_set(err, DZ_EIO, "cannot listen on TCP: %s", strerror(errno));
			goto cleanup;
		}
	}
	*out = sockets;
	memset(&sockets, 0, sizeof(sockets));

cleanup:
	dz_server_sockets_close(&sockets);
	return result;
}

/* Watch copies of `sockets`, so that the caller keeps its own. */
static dz_result_t
open_listeners(dz_server_t *server, const dz_server_sockets_t *sockets, dz_error_t *err)
{
	const dz_server_config_t *config = server->config;

	if (sockets->count != config->listen_count)
		return dz_error_set(err, DZ_ECONFIG,
				    "the server has %zu listening sockets but the configuration "
				    "%zu listen addresses; restart to apply a change of addresses",
				    sockets->count, config->listen_count);
	server->udp = calloc(config->listen_count + 1, sizeof(*server->udp));
	server->tcp = calloc(config->listen_count + 1, sizeof(*server->tcp));
	if (server->udp == NULL || server->tcp == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	for (size_t i = 0; i < config->listen_count; i++) {
		int udp_fd = fcntl(sockets->udp[i], F_DUPFD_CLOEXEC, 3);
		if (udp_fd < 0)
			return dz_error_set(err, DZ_EIO, "cannot duplicate a UDP socket: %s",
					    strerror(errno));
		udp_listener_t *udp = &server->udp[server->udp_count++];
		udp->fd = udp_fd;
		udp->family = config->listen[i].address.ss_family;
		udp->port = bound_port(udp_fd);
		udp->event = event_new(server->base, udp_fd, EV_READ | EV_PERSIST, udp_read, server);
		if (udp->event == NULL || event_add(udp->event, NULL) != 0)
			return dz_error_set(err, DZ_EIO, "cannot watch a UDP socket");

		int tcp_fd = fcntl(sockets->tcp[i], F_DUPFD_CLOEXEC, 3);
		if (tcp_fd < 0)
			return dz_error_set(err, DZ_EIO, "cannot duplicate a TCP socket: %s",
					    strerror(errno));
		server->tcp[server->tcp_count] =
			evconnlistener_new(server->base, tcp_accept, server, LEV_OPT_CLOSE_ON_FREE, 0,
					   tcp_fd);
		if (server->tcp[server->tcp_count] == NULL) {
			close(tcp_fd);
			return dz_error_set(err, DZ_EIO, "cannot watch a TCP socket");
		}
		server->tcp_count++;

		dz_server_address_t address = config->listen[i];
		set_port(&address, udp->port);
		char text[DZ_SERVER_ADDRESS_TEXT_MAX];
		dz_server_address_format((struct sockaddr *)&address.address, text, sizeof(text));
		dz_log(DZ_LOG_NOTICE, "DNS server listening on %s (UDP and TCP)", text);
	}
	return DZ_OK;
}

dz_result_t
dz_server_create(struct event_base *base, const dz_server_config_t *config, dz_clock_t *clock,
		 dz_server_t **out, dz_error_t *err)
{
	dz_server_sockets_t sockets;
	dz_result_t result = dz_server_sockets_open(config, &sockets, err);

	if (result != DZ_OK)
		return result;
	result = dz_server_create_on(base, config, clock, &sockets, out, err);
	dz_server_sockets_close(&sockets);
	return result;
}

dz_result_t
dz_server_create_on(struct event_base *base, const dz_server_config_t *config,
		    dz_clock_t *clock, const dz_server_sockets_t *sockets, dz_server_t **out,
		    dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_server_t *server = calloc(1, sizeof(*server));

	if (server == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	server->base = base;
	server->config = config;
	server->clock = clock;
	server->notify_v4.fd = -1;
	server->notify_v6.fd = -1;
	result = dz_server_config_check(config, err);
	if (result != DZ_OK)
		goto cleanup;
	server->serials = calloc(config->zone_count + 1, sizeof(*server->serials));
	if (server->serials == NULL) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	result = dz_responder_create(config, &server->responder, err);
	if (result != DZ_OK)
		goto cleanup;
	result = open_listeners(server, sockets, err);
	if (result != DZ_OK)
		goto cleanup;
	for (size_t i = 0; i < config->zone_count; i++) {
		dz_error_t load_err;
		dz_error_init(&load_err);
		dz_result_t loaded = dz_responder_load_zone(server->responder, i, &server->serials[i],
							    &load_err);
		if (loaded == DZ_ENOTFOUND)
			dz_log_zone(DZ_LOG_NOTICE, config->zones[i].name,
				    "not published yet; serving it once it is");
		else if (loaded != DZ_OK)
			dz_log_zone(DZ_LOG_ERROR, config->zones[i].name, "%s",
				    dz_error_message(&load_err));
		else
			/* Secondaries may have missed versions while the server was down. */
			notify_zone(server, i, server->serials[i]);
	}
	*out = server;
	server = NULL;

cleanup:
	dz_server_destroy(server);
	return result;
}

void
dz_server_destroy(dz_server_t *server)
{
	if (server == NULL)
		return;
	while (server->conns != NULL)
		tcp_close(server->conns);
	while (server->jobs != NULL)
		notify_job_free(server, server->jobs);
	for (size_t i = 0; i < server->udp_count; i++) {
		if (server->udp[i].event != NULL)
			event_free(server->udp[i].event);
		close(server->udp[i].fd);
	}
	for (size_t i = 0; i < server->tcp_count; i++)
		evconnlistener_free(server->tcp[i]);
	notify_socket_t *sockets[] = { &server->notify_v4, &server->notify_v6 };
	for (size_t i = 0; i < DZ_ARRAY_SIZE(sockets); i++) {
		if (sockets[i]->event != NULL) {
			event_free(sockets[i]->event);
			close(sockets[i]->fd);
		}
	}
	free(server->udp);
	free(server->tcp);
	free(server->serials);
	dz_responder_destroy(server->responder);
	free(server);
}

dz_result_t
dz_server_zone_published(dz_server_t *server, const char *name, dz_error_t *err)
{
	long index = dz_responder_find_zone(server->responder, name);
	uint32_t serial = 0;

	if (index < 0)
		return dz_error_set(err, DZ_ENOTFOUND, "zone %s is not served", name);
	dz_result_t result = dz_responder_load_zone(server->responder, (size_t)index, &serial, err);
	if (result != DZ_OK)
		return result;
	if (serial != server->serials[index]) {
		server->serials[index] = serial;
		notify_zone(server, (size_t)index, serial);
	}
	return DZ_OK;
}

int
dz_server_port(const dz_server_t *server, int family)
{
	for (size_t i = 0; i < server->udp_count; i++) {
		if (server->udp[i].family == family)
			return server->udp[i].port;
	}
	return 0;
}
