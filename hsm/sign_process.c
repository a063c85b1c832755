/*
 * sign_process.c -- the multi-process sign service.
 *
 * Why processes: in one process SoftHSM2 2.6.1 gains nothing from a second
 * thread for ECDSA and half for EdDSA (measurements in sign_local.c).  Each
 * signer process has its own module state and login, so P processes sign
 * about P requests at once.  The same split keeps the token's login out of
 * the process that faces the network.
 *
 * Parent side: one reader thread per signer process receives its SIGNED
 * messages in order.  Callers split a batch into chunks, queue each chunk
 * on the least-loaded process and write it without waiting for earlier
 * responses (pipelining), then wait until every chunk of their batch is done.
 * Writes and the queue of a process have separate locks.  A writer blocked
 * on a full socket holds only the write lock, so the reader thread still
 * drains responses and the signer process can go on reading requests.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/privdrop.h"
#include "hsm/hsm.h"
#include "hsm/sign_protocol.h"
#include "hsm/sign_service_impl.h"

/* Maximum requests per SIGN message; smaller chunks spread a batch over the processes. */
#define CHUNK_MAX 256
/* Time a signer process may take to load the module, log in and index the keys. */
#define READY_TIMEOUT_MS 120000
/* Time a signer process gets to finish after its connection is closed. */
#define EXIT_TIMEOUT_MS 10000

typedef struct batch {
	pthread_mutex_t lock;
	pthread_cond_t done;
	size_t remaining;		/* chunks without a response yet */
	dz_sign_request_t *requests;	/* the caller's array */
	dz_error_t first_error;		/* message of the failed request with the lowest index */
	size_t first_index;
} batch_t;

/* A key request waiting for its response. */
typedef struct key_call {
	pthread_mutex_t lock;
	pthread_cond_t done;
	bool finished;
	dz_hsm_msg_type_t response_type;
	dz_hsm_key_response_t *response;	/* the caller's */
	dz_error_t error;			/* why no response arrived */
} key_call_t;

/* What a process was sent and has not responded to: part of a batch, or one key request. */
typedef struct chunk {
	uint32_t id;
	dz_sign_request_t *requests;
	size_t count;			/* 0 for a key request */
	batch_t *batch;			/* NULL for a key request */
	key_call_t *call;		/* NULL for a sign chunk */
	struct chunk *next;
} chunk_t;

typedef struct worker {
	unsigned index;
	pid_t pid;
	int fd;
	pthread_t reader;
	bool reader_started;
	pthread_mutex_t write_lock;	/* one message at a time on the socket */
	pthread_mutex_t queue_lock;	/* the queue, in_flight and dead */
	chunk_t *head, *tail;		/* sent, without a response yet, in order */
	size_t in_flight;		/* requests in the queue */
	bool dead;
	bool stopping;			/* the service is being destroyed: end of file is expected */
	char name[48];
} worker_t;

typedef struct process_service {
	dz_sign_service_t base;
	worker_t *workers;
	unsigned count;
	pthread_mutex_t id_lock;
	uint32_t next_id;
	bool has_drop;			/* signer processes started as root switch to `drop` */
	dz_privdrop_target_t drop;
} process_service_t;

/*
 * The parent's ends of the sockets of every signer process that this
 * process runs, in all services, which each new signer process closes.
 */
static pthread_mutex_t parent_ends_lock = PTHREAD_MUTEX_INITIALIZER;
static int *parent_ends;
static size_t parent_end_count;
static size_t parent_end_cap;

static dz_result_t
add_parent_end(int fd, dz_error_t *err)
{
	dz_result_t result = DZ_OK;

	pthread_mutex_lock(&parent_ends_lock);
	if (parent_end_count == parent_end_cap) {
		size_t cap = parent_end_cap > 0 ? 2 * parent_end_cap : 16;
		int *grown = realloc(parent_ends, cap * sizeof(*grown));
		if (grown == NULL) {
			result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		} else {
			parent_ends = grown;
			parent_end_cap = cap;
		}
	}
	if (result == DZ_OK)
		parent_ends[parent_end_count++] = fd;
	pthread_mutex_unlock(&parent_ends_lock);
	return result;
}

static void
remove_parent_end(int fd)
{
	pthread_mutex_lock(&parent_ends_lock);
	for (size_t i = 0; i < parent_end_count; i++) {
		if (parent_ends[i] == fd) {
			parent_ends[i] = parent_ends[--parent_end_count];
			break;
		}
	}
	if (parent_end_count == 0) {
		free(parent_ends);
		parent_ends = NULL;
		parent_end_cap = 0;
	}
	pthread_mutex_unlock(&parent_ends_lock);
}

/*
 * Close every parent end in a new signer process.  The child reads the list
 * without the lock, which another thread may have held at the fork.
 * NOTE: if another thread destroys a service during the fork, the child
 * may read the list while it changes.  danezoned creates and destroys its
 * services on one thread, so it does not meet this case.
 */
static void
close_parent_ends(void)
{
	for (size_t i = 0; i < parent_end_count; i++)
		close(parent_ends[i]);
}

/* ------------------------------------------------------------------ batches */

static void
batch_record(batch_t *batch, size_t index, dz_result_t result, const char *message)
{
	if (batch->first_error.code != DZ_OK && batch->first_index <= index)
		return;
	batch->first_index = index;
	dz_error_set(&batch->first_error, result, "%s",
		     message[0] != '\0' ? message : dz_result_text(result));
}

/* Wake the caller of a key request; `result` is DZ_OK when the response arrived. */
static void
call_finish(key_call_t *call, dz_result_t result, const char *message)
{
	pthread_mutex_lock(&call->lock);
	if (result != DZ_OK)
		dz_error_set(&call->error, result, "%s", message);
	call->finished = true;
	pthread_cond_signal(&call->done);
	pthread_mutex_unlock(&call->lock);
}

/* Mark a chunk done; `message` describes its first failure, if any. */
static void
chunk_complete(chunk_t *chunk, const char *message)
{
	batch_t *batch = chunk->batch;

	if (chunk->call != NULL) {
		call_finish(chunk->call, DZ_OK, message);
		return;
	}
	pthread_mutex_lock(&batch->lock);
	for (size_t i = 0; i < chunk->count; i++) {
		if (chunk->requests[i].result != DZ_OK) {
			batch_record(batch, (size_t)(chunk->requests - batch->requests) + i,
				     chunk->requests[i].result, message);
			break;
		}
	}
	if (--batch->remaining == 0)
		pthread_cond_signal(&batch->done);
	pthread_mutex_unlock(&batch->lock);
}

static void
chunk_fail(chunk_t *chunk, dz_result_t result, const char *message)
{
	if (chunk->call != NULL) {
		call_finish(chunk->call, result, message);
		return;
	}
	for (size_t i = 0; i < chunk->count; i++) {
		chunk->requests[i].result = result;
		chunk->requests[i].signature_len = 0;
	}
	chunk_complete(chunk, message);
}

/* Load a chunk puts on its process: its requests, or 1 for a key request. */
static size_t
chunk_weight(const chunk_t *chunk)
{
	return chunk->call != NULL ? 1 : chunk->count;
}

/* ------------------------------------------------------------------ parent side */

/* Mark the process dead and fail every chunk it has not responded to. */
static void
worker_die(worker_t *worker, const char *reason)
{
	char message[DZ_ERROR_MESSAGE_MAX];
	chunk_t *pending;

	pthread_mutex_lock(&worker->queue_lock);
	bool quiet = worker->dead || worker->stopping;
	worker->dead = true;
	pending = worker->head;
	worker->head = worker->tail = NULL;
	worker->in_flight = 0;
	pthread_mutex_unlock(&worker->queue_lock);

	snprintf(message, sizeof(message), "%s (pid %ld) stopped answering: %s", worker->name,
		 (long)worker->pid, reason);
	if (!quiet)
		dz_log(DZ_LOG_ERROR, "%s", message);
	/* Wake a writer blocked on a full socket: its write now fails. */
	shutdown(worker->fd, SHUT_RDWR);
	while (pending != NULL) {
		chunk_t *next = pending->next;
		chunk_fail(pending, DZ_EHSM_SESSION, message);
		pending = next;
	}
}

/* Decode a key response into the chunk's call and wake its caller. */
static dz_result_t
complete_call(chunk_t *chunk, const dz_hsm_msg_header_t *header, const uint8_t *body,
	      dz_error_t *err)
{
	key_call_t *call = chunk->call;
	dz_result_t result;

	if (header->type != call->response_type)
		result = dz_error_set(err, DZ_ESYNTAX, "message type %u answers a key request "
				      "that expects type %u", (unsigned)header->type,
				      (unsigned)call->response_type);
	else
		result = dz_hsm_msg_key_response_decode(header, body, call->response, err);
	if (result != DZ_OK)
		return result;
	call_finish(call, DZ_OK, "");
	return DZ_OK;
}

/* Read one response and complete its chunk; false when the process is gone. */
static bool
reader_step(worker_t *worker, dz_buf_t *body)
{
	uint8_t header_bytes[DZ_HSM_MSG_HEADER_LEN];
	char message[DZ_HSM_MSG_TEXT_MAX + 1];
	dz_hsm_msg_header_t header;
	dz_error_t err;

	dz_error_init(&err);
	dz_result_t result = dz_hsm_msg_read(worker->fd, header_bytes, sizeof(header_bytes), &err);
	if (result == DZ_OK)
		result = dz_hsm_msg_header_decode(header_bytes, &header, &err);
	if (result == DZ_OK && header.type != DZ_HSM_MSG_SIGNED && header.type != DZ_HSM_MSG_TOKEN &&
	    header.type != DZ_HSM_MSG_GENERATED && header.type != DZ_HSM_MSG_DONE)
		result = dz_error_set(&err, DZ_ESYNTAX, "unexpected message type %u",
				      (unsigned)header.type);
	if (result == DZ_OK) {
		body->len = 0;
		if (dz_buf_reserve(body, header.body_len) != DZ_OK)
			result = dz_error_set(&err, DZ_ENOMEM, "out of memory");
	}
	if (result == DZ_OK)
		result = dz_hsm_msg_read(worker->fd, body->data, header.body_len, &err);
	if (result != DZ_OK) {
		worker_die(worker, dz_error_message(&err));
		return false;
	}

	pthread_mutex_lock(&worker->queue_lock);
	chunk_t *chunk = worker->head;
	if (chunk != NULL && chunk->id == header.id && chunk->count == header.count) {
		worker->head = chunk->next;
		if (worker->head == NULL)
			worker->tail = NULL;
		worker->in_flight -= chunk_weight(chunk);
	} else {
		chunk = NULL;
	}
	pthread_mutex_unlock(&worker->queue_lock);
	if (chunk == NULL) {
		worker_die(worker, "an answer does not match the oldest request");
		return false;
	}

	if (chunk->call != NULL) {
		result = complete_call(chunk, &header, body->data, &err);
		if (result != DZ_OK) {
			chunk_fail(chunk, DZ_EINTERNAL, dz_error_message(&err));
			worker_die(worker, dz_error_message(&err));
			return false;
		}
		return true;
	}
	if (header.type != DZ_HSM_MSG_SIGNED)
		result = dz_error_set(&err, DZ_ESYNTAX, "message type %u answers a SIGN request",
				      (unsigned)header.type);
	else
		result = dz_hsm_msg_signed_decode(&header, body->data, chunk->requests,
						  chunk->count, message, &err);
	if (result != DZ_OK) {
		chunk_fail(chunk, DZ_EINTERNAL, dz_error_message(&err));
		worker_die(worker, dz_error_message(&err));
		return false;
	}
	chunk_complete(chunk, message);
	return true;
}

static void *
reader_run(void *arg)
{
	worker_t *worker = arg;
	dz_buf_t body;

	dz_buf_init(&body);
	while (reader_step(worker, &body))
		;
	dz_buf_clear(&body);
	return NULL;
}

/* The live process with the fewest requests in flight, or NULL if none lives. */
static worker_t *
choose_worker(process_service_t *service)
{
	worker_t *best = NULL;
	size_t best_load = SIZE_MAX;

	for (unsigned i = 0; i < service->count; i++) {
		worker_t *worker = &service->workers[i];
		pthread_mutex_lock(&worker->queue_lock);
		if (!worker->dead && worker->in_flight < best_load) {
			best = worker;
			best_load = worker->in_flight;
		}
		pthread_mutex_unlock(&worker->queue_lock);
	}
	return best;
}

/*
 * Queue a chunk on `worker` (NULL: the least loaded process) and send its
 * encoded message `frame`; on failure the chunk is failed.
 */
static void
send_chunk(process_service_t *service, worker_t *worker, chunk_t *chunk, const dz_buf_t *frame)
{
	dz_error_t err;
	dz_result_t result;

	if (worker == NULL)
		worker = choose_worker(service);
	if (worker == NULL) {
		chunk_fail(chunk, DZ_EHSM_SESSION, "no signer process is running");
		return;
	}

	pthread_mutex_lock(&worker->write_lock);
	pthread_mutex_lock(&worker->queue_lock);
	if (worker->dead) {
		pthread_mutex_unlock(&worker->queue_lock);
		pthread_mutex_unlock(&worker->write_lock);
		chunk_fail(chunk, DZ_EHSM_SESSION, "the signer process stopped");
		return;
	}
	chunk->next = NULL;
	if (worker->tail != NULL)
		worker->tail->next = chunk;
	else
		worker->head = chunk;
	worker->tail = chunk;
	worker->in_flight += chunk_weight(chunk);
	pthread_mutex_unlock(&worker->queue_lock);
	/* After this point the chunk belongs to the reader thread (or worker_die). */
	dz_error_init(&err);
	result = dz_hsm_msg_write(worker->fd, frame->data, frame->len, &err);
	pthread_mutex_unlock(&worker->write_lock);
	if (result != DZ_OK)
		worker_die(worker, dz_error_message(&err));
}

static dz_result_t
process_sign(dz_sign_service_t *base, dz_sign_request_t *requests, size_t count,
	     dz_error_t *err)
{
	process_service_t *service = (process_service_t *)base;
	batch_t batch;
	dz_buf_t frame;
	size_t chunk_size = (count + service->count - 1) / service->count;
	dz_result_t result = DZ_OK;

	if (count == 0)
		return DZ_OK;
	if (chunk_size > CHUNK_MAX)
		chunk_size = CHUNK_MAX;
	size_t chunk_count = (count + chunk_size - 1) / chunk_size;
	chunk_t *chunks = calloc(chunk_count, sizeof(*chunks));
	if (chunks == NULL) {
		for (size_t i = 0; i < count; i++)
			requests[i].result = DZ_ENOMEM;
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	}
	memset(&batch, 0, sizeof(batch));
	pthread_mutex_init(&batch.lock, NULL);
	pthread_cond_init(&batch.done, NULL);
	batch.requests = requests;
	batch.remaining = chunk_count;
	dz_buf_init(&frame);

	for (size_t i = 0; i < chunk_count; i++) {
		chunk_t *chunk = &chunks[i];
		size_t start = i * chunk_size;
		pthread_mutex_lock(&service->id_lock);
		chunk->id = service->next_id++;
		pthread_mutex_unlock(&service->id_lock);
		chunk->requests = requests + start;
		chunk->count = count - start < chunk_size ? count - start : chunk_size;
		chunk->batch = &batch;
		frame.len = 0;
		result = dz_hsm_msg_sign_encode(&frame, chunk->id, chunk->requests, chunk->count);
		if (result == DZ_OK)
			send_chunk(service, NULL, chunk, &frame);
		else
			chunk_fail(chunk, result, result == DZ_ENOMEM ? "out of memory" :
				   "a request has an invalid key id or too much data");
	}
	result = DZ_OK;
	dz_buf_clear(&frame);

	pthread_mutex_lock(&batch.lock);
	while (batch.remaining > 0)
		pthread_cond_wait(&batch.done, &batch.lock);
	pthread_mutex_unlock(&batch.lock);

	for (size_t i = 0; i < count; i++) {
		if (requests[i].result == DZ_OK)
			continue;
		if (batch.first_error.code != DZ_OK && batch.first_index == i)
			result = dz_error_set(err, requests[i].result, "%s", batch.first_error.message);
		else
			result = dz_error_set(err, requests[i].result,
					      "signing request %zu of %zu failed: %s", i + 1, count,
					      dz_result_text(requests[i].result));
		break;
	}
	pthread_cond_destroy(&batch.done);
	pthread_mutex_destroy(&batch.lock);
	free(chunks);
	return result;
}

/* Send a key request to `worker` (NULL: the least loaded process) and wait for its response. */
static dz_result_t
call_worker(process_service_t *service, worker_t *worker, const dz_hsm_key_request_t *request,
	    dz_hsm_key_response_t *response, dz_error_t *err)
{
	key_call_t call;
	chunk_t chunk;
	dz_buf_t frame;
	dz_result_t result;

	memset(&call, 0, sizeof(call));
	memset(&chunk, 0, sizeof(chunk));
	call.response_type = dz_hsm_msg_response_type(request->type);
	call.response = response;
	chunk.call = &call;
	pthread_mutex_lock(&service->id_lock);
	chunk.id = service->next_id++;
	pthread_mutex_unlock(&service->id_lock);

	dz_buf_init(&frame);
	result = dz_hsm_msg_key_request_encode(&frame, chunk.id, request);
	if (result != DZ_OK) {
		dz_buf_clear(&frame);
		return dz_error_set(err, result, "cannot encode key request type %u: %s",
				    (unsigned)request->type, dz_result_text(result));
	}
	pthread_mutex_init(&call.lock, NULL);
	pthread_cond_init(&call.done, NULL);
	send_chunk(service, worker, &chunk, &frame);
	dz_buf_clear(&frame);

	pthread_mutex_lock(&call.lock);
	while (!call.finished)
		pthread_cond_wait(&call.done, &call.lock);
	pthread_mutex_unlock(&call.lock);
	pthread_cond_destroy(&call.done);
	pthread_mutex_destroy(&call.lock);
	if (call.error.code != DZ_OK)
		return dz_error_set(err, call.error.code, "%s", call.error.message);
	return DZ_OK;
}

/*
 * Make every process index a key that one of them generated, so that the
 * first signatures with it do not fail in the others.  A failure is logged
 * and not returned, because signing retries later and finds the key then.
 */
static void
announce_key(process_service_t *service, const dz_hsm_key_response_t *generated)
{
	dz_hsm_key_request_t check = { .type = DZ_HSM_MSG_CHECK };
	dz_hsm_key_response_t response;
	char hex[2 * DZ_KEY_ID_MAX + 1];
	dz_error_t err;

	memcpy(check.key_id, generated->key_id, generated->key_id_len);
	check.key_id_len = generated->key_id_len;
	for (unsigned i = 0; i < service->count; i++) {
		worker_t *worker = &service->workers[i];
		dz_error_init(&err);
		dz_result_t result = call_worker(service, worker, &check, &response, &err);
		if (result == DZ_OK && response.result != DZ_OK)
			result = dz_error_set(&err, response.result, "%s", response.message);
		if (result != DZ_OK)
			dz_log(DZ_LOG_WARNING, "%s does not find the new key pair with CKA_ID %s: %s",
			       worker->name, dz_hsm_id_hex(check.key_id, check.key_id_len, hex),
			       dz_error_message(&err));
	}
}

static dz_result_t
process_key(dz_sign_service_t *base, const dz_hsm_key_request_t *request,
	    dz_hsm_key_response_t *response, dz_error_t *err)
{
	process_service_t *service = (process_service_t *)base;
	dz_result_t result = call_worker(service, NULL, request, response, err);

	if (result == DZ_OK && request->type == DZ_HSM_MSG_GENERATE && response->result == DZ_OK &&
	    service->count > 1)
		announce_key(service, response);
	return result;
}

static unsigned
process_parallelism(const dz_sign_service_t *base)
{
	return ((const process_service_t *)base)->count;
}

/* Wait for a process to exit, killing it after EXIT_TIMEOUT_MS. */
static void
reap(worker_t *worker)
{
	int status;

	if (worker->pid <= 0)
		return;
	for (int waited = 0; waited < EXIT_TIMEOUT_MS; waited += 10) {
		pid_t done = waitpid(worker->pid, &status, WNOHANG);
		if (done == worker->pid && WIFSIGNALED(status))
			dz_log(DZ_LOG_WARNING, "%s (pid %ld) ended by signal %d", worker->name,
			       (long)worker->pid, WTERMSIG(status));
		else if (done == worker->pid && WEXITSTATUS(status) != 0)
			dz_log(DZ_LOG_WARNING, "%s (pid %ld) exited with status %d", worker->name,
			       (long)worker->pid, WEXITSTATUS(status));
		if (done == worker->pid || (done < 0 && errno != EINTR))
			return;
		struct timespec pause = { 0, 10 * 1000 * 1000 };
		nanosleep(&pause, NULL);
	}
	dz_log(DZ_LOG_WARNING, "%s (pid %ld) did not exit; killing it", worker->name,
	       (long)worker->pid);
	kill(worker->pid, SIGKILL);
	waitpid(worker->pid, &status, 0);
}

static void
process_destroy(dz_sign_service_t *base)
{
	process_service_t *service = (process_service_t *)base;

	for (unsigned i = 0; i < service->count; i++) {
		worker_t *worker = &service->workers[i];
		pthread_mutex_lock(&worker->queue_lock);
		worker->stopping = true;
		pthread_mutex_unlock(&worker->queue_lock);
		if (worker->fd >= 0)
			shutdown(worker->fd, SHUT_WR);	/* the process sees end of file and exits */
	}
	for (unsigned i = 0; i < service->count; i++) {
		worker_t *worker = &service->workers[i];
		if (worker->reader_started)
			pthread_join(worker->reader, NULL);
		reap(worker);
		if (worker->fd >= 0) {
			remove_parent_end(worker->fd);
			close(worker->fd);
		}
		pthread_mutex_destroy(&worker->write_lock);
		pthread_mutex_destroy(&worker->queue_lock);
	}
	pthread_mutex_destroy(&service->id_lock);
	free(service->workers);
	free(service);
}

static const dz_sign_service_ops_t process_ops = {
	.sign = process_sign,
	.key = process_key,
	.parallelism = process_parallelism,
	.destroy = process_destroy,
};

/* ------------------------------------------------------------------ signer process */

/*
 * Body of a signer process: log in, drop root when `drop` is set, report
 * readiness, serve; never returns.  The drop comes after the login
 * because the PIN file and the token may be readable by root only.
 */
static void __attribute__((noreturn))
worker_main(int fd, const dz_hsm_config_t *config, const dz_privdrop_target_t *drop,
	    const char *name)
{
	dz_hsm_t *hsm = NULL;
	dz_buf_t ready;
	dz_error_t err;
	int status = 1;

	dz_error_init(&err);
	dz_buf_init(&ready);
	dz_result_t result = dz_hsm_create(config, &hsm, &err);
	if (result == DZ_OK && drop != NULL && geteuid() == 0)
		result = dz_privdrop_apply(drop, NULL, name, &err);
	if (dz_hsm_msg_ready_encode(&ready, result, result == DZ_OK ? "" : dz_error_message(&err))
	    == DZ_OK &&
	    dz_hsm_msg_write(fd, ready.data, ready.len, NULL) == DZ_OK && result == DZ_OK) {
		if (dz_hsm_msg_serve(hsm, fd, name) == DZ_OK)
			status = 0;
	}
	dz_buf_clear(&ready);
	dz_hsm_destroy(hsm);
	close(fd);
	/* exit(), not _exit(): LeakSanitizer checks this process too. */
	exit(status);
}

/* Wait for a READY message; DZ_OK if the process logged in. */
static dz_result_t
await_ready(worker_t *worker, dz_error_t *err)
{
	struct pollfd pfd = { worker->fd, POLLIN, 0 };
	uint8_t header_bytes[DZ_HSM_MSG_HEADER_LEN];
	uint8_t body[DZ_HSM_MSG_TEXT_MAX + 4];
	char message[DZ_HSM_MSG_TEXT_MAX + 1];
	dz_hsm_msg_header_t header;
	dz_result_t ready_result;
	dz_result_t result;

	int n;
	do {
		n = poll(&pfd, 1, READY_TIMEOUT_MS);
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		return dz_error_set(err, DZ_ETIMEOUT, "%s did not log in to the token within %d s",
				    worker->name, READY_TIMEOUT_MS / 1000);
	result = dz_hsm_msg_read(worker->fd, header_bytes, sizeof(header_bytes), err);
	if (result == DZ_OK)
		result = dz_hsm_msg_header_decode(header_bytes, &header, err);
	if (result == DZ_OK && (header.type != DZ_HSM_MSG_READY || header.body_len > sizeof(body)))
		result = dz_error_set(err, DZ_ESYNTAX, "unexpected first message");
	if (result == DZ_OK)
		result = dz_hsm_msg_read(worker->fd, body, header.body_len, err);
	if (result == DZ_OK)
		result = dz_hsm_msg_ready_decode(&header, body, &ready_result, message, err);
	if (result != DZ_OK)
		return dz_error_prefix(err, "%s failed to start", worker->name);
	if (ready_result != DZ_OK)
		return dz_error_set(err, ready_result, "%s: %s", worker->name, message);
	return DZ_OK;
}

/* Fork one signer process; the caller has fds of earlier processes to close in the child. */
static dz_result_t
start_worker(process_service_t *service, unsigned index, const dz_hsm_config_t *config,
	     dz_error_t *err)
{
	worker_t *worker = &service->workers[index];
	int sv[2];
	pid_t parent = getpid();
	dz_result_t result;

	snprintf(worker->name, sizeof(worker->name), "signer process %u", index + 1);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return dz_error_set(err, DZ_EIO, "cannot create a socket pair: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return dz_error_set(err, DZ_EAGAIN, "cannot start %s: %s", worker->name,
				    strerror(errno));
	}
	if (pid == 0) {
		close(sv[0]);
		/*
		 * Earlier processes, of this service or another, must see end of
		 * file when the parent closes their socket, and no signer process
		 * may talk on another's connection.
		 */
		close_parent_ends();
		/*
		 * A stop signal to the whole process group (Ctrl-C) must not end
		 * the process while the parent still signs its last jobs: it
		 * ends at end of file on its socket, or when the parent dies.
		 */
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		worker_main(sv[1], config, service->has_drop ? &service->drop : NULL, worker->name);
	}
	close(sv[1]);
	worker->pid = pid;
	worker->fd = sv[0];
	result = add_parent_end(sv[0], err);
	if (result != DZ_OK)
		return result;
	return await_ready(worker, err);
}

dz_result_t
dz_sign_service_create_processes(const struct dz_hsm_config *config, unsigned processes,
				 dz_sign_service_t **out, dz_error_t *err)
{
	return dz_sign_service_create_processes_as(config, processes, NULL, out, err);
}

dz_result_t
dz_sign_service_create_processes_as(const struct dz_hsm_config *config, unsigned processes,
				    const dz_privdrop_target_t *drop, dz_sign_service_t **out,
				    dz_error_t *err)
{
	process_service_t *service;
	dz_result_t result = DZ_OK;

	if (processes == 0)
		return dz_error_set(err, DZ_EINVAL, "a sign service needs at least one process");
	service = calloc(1, sizeof(*service));
	if (service == NULL || (service->workers = calloc(processes, sizeof(worker_t))) == NULL) {
		free(service);
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	}
	service->base.ops = &process_ops;
	service->count = processes;
	if (drop != NULL) {
		service->has_drop = true;
		service->drop = *drop;
	}
	pthread_mutex_init(&service->id_lock, NULL);
	for (unsigned i = 0; i < processes; i++) {
		worker_t *worker = &service->workers[i];
		worker->index = i;
		worker->fd = -1;
		pthread_mutex_init(&worker->write_lock, NULL);
		pthread_mutex_init(&worker->queue_lock, NULL);
	}

	/* One after the other: a wrong PIN is then tried once, not once per process. */
	for (unsigned i = 0; i < processes && result == DZ_OK; i++)
		result = start_worker(service, i, config, err);
	/* Reader threads start only now, so that every fork() above copied one thread. */
	for (unsigned i = 0; i < processes && result == DZ_OK; i++) {
		worker_t *worker = &service->workers[i];
		if (pthread_create(&worker->reader, NULL, reader_run, worker) != 0)
			result = dz_error_set(err, DZ_EAGAIN, "cannot start a reader thread: %s",
					      strerror(errno));
		else
			worker->reader_started = true;
	}
	if (result != DZ_OK) {
		process_destroy(&service->base);
		return result;
	}
	dz_log(DZ_LOG_INFO, "sign service: %u signer processes logged in", processes);
	*out = &service->base;
	return DZ_OK;
}
