/*
 * daemon_worker.c -- worker threads that run the daemon's jobs, and the
 * pipe that hands finished jobs back to the loop thread.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "signer/daemon.h"
#include "signer/daemon_job.h"

static void *
worker_main(void *arg)
{
	dz_daemon_t *d = arg;

	pthread_mutex_lock(&d->lock);
	for (;;) {
		while (d->queue_head == NULL && !d->workers_stop)
			pthread_cond_wait(&d->wake, &d->lock);
		if (d->queue_head == NULL && d->workers_stop)
			break;
		daemon_job_t *job = d->queue_head;
		d->queue_head = job->next;
		if (d->queue_head == NULL)
			d->queue_tail = NULL;
		job->next = NULL;
		pthread_mutex_unlock(&d->lock);

		daemon_job_run(job);

		pthread_mutex_lock(&d->lock);
		if (d->done_tail != NULL)
			d->done_tail->next = job;
		else
			d->done_head = job;
		d->done_tail = job;
		char byte = 1;
		/* A full pipe already has a wake-up pending, so a failed write loses nothing. */
		if (write(d->done_pipe[1], &byte, 1) < 0 && errno != EAGAIN)
			dz_log(DZ_LOG_WARNING, "cannot wake the event loop: %s", strerror(errno));
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* Loop thread: hand each finished job to daemon_job_finished(). */
static void
jobs_done(evutil_socket_t fd, short what, void *arg)
{
	dz_daemon_t *d = arg;
	char bytes[64];

	(void)what;
	while (read(fd, bytes, sizeof(bytes)) > 0)
		continue;
	for (;;) {
		pthread_mutex_lock(&d->lock);
		daemon_job_t *job = d->done_head;
		if (job != NULL) {
			d->done_head = job->next;
			if (d->done_head == NULL)
				d->done_tail = NULL;
		}
		pthread_mutex_unlock(&d->lock);
		if (job == NULL)
			break;
		d->jobs_running--;
		daemon_job_finished(d, job);
	}
}

dz_result_t
daemon_workers_start(dz_daemon_t *d, dz_error_t *err)
{
	if (pipe2(d->done_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return dz_error_set(err, DZ_EIO, "cannot create a pipe: %s", strerror(errno));
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->wake, NULL);
	d->done_event = event_new(d->base, d->done_pipe[0], EV_READ | EV_PERSIST, jobs_done, d);
	if (d->done_event == NULL || event_add(d->done_event, NULL) != 0)
		return dz_error_set(err, DZ_ENOMEM, "cannot add the worker event");
	for (size_t i = 0; i < DZ_DAEMON_WORKERS; i++) {
		int rc = pthread_create(&d->workers[i], NULL, worker_main, d);
		if (rc != 0)
			return dz_error_set(err, DZ_EIO, "cannot start a worker thread: %s",
					    strerror(rc));
		d->worker_count++;
	}
	return DZ_OK;
}

void
daemon_workers_submit(dz_daemon_t *d, daemon_job_t *job)
{
	d->jobs_running++;
	pthread_mutex_lock(&d->lock);
	job->next = NULL;
	if (d->queue_tail != NULL)
		d->queue_tail->next = job;
	else
		d->queue_head = job;
	d->queue_tail = job;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
}

/*
 * Let the workers finish the queued jobs and end.  Finished jobs that the
 * loop has not taken yet are handed over here, on the loop thread.
 */
void
daemon_workers_stop(dz_daemon_t *d)
{
	if (d->done_event == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	d->workers_stop = true;
	pthread_cond_broadcast(&d->wake);
	pthread_mutex_unlock(&d->lock);
	for (size_t i = 0; i < d->worker_count; i++)
		pthread_join(d->workers[i], NULL);
	d->worker_count = 0;
	jobs_done(d->done_pipe[0], EV_READ, d);
	event_free(d->done_event);
	d->done_event = NULL;
	close(d->done_pipe[0]);
	close(d->done_pipe[1]);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->wake);
}
