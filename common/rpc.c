/*
 * rpc.c - the RPC engine: event-loop threads with their epoll sets, task
 * queues and wake-up eventfds; plus options and messages shared by the
 * client (rpc_client.c) and server (rpc_server.c).
 *
 * Threads: each loop is one thread that waits in epoll_wait(), runs the
 * watch of every ready descriptor, then the tasks other threads posted, then
 * the work it deferred to the end of the batch (so an object closed while
 * handling one event is still valid for the other events of the batch).
 *
 * Large receive buffers come from a process-wide cache of power-of-two
 * size classes (64 KiB .. 64 MiB, at most RPC_BUF_CACHE_BYTES kept, under
 * buf_cache.lock): a daemon receiving 1 MiB chunks would otherwise map and
 * unmap, and page-fault through, every buffer.  Built with AddressSanitizer
 * the cache is bypassed so use-after-free stays detectable.
 */
#include "common/rpc_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define LOOP_EVENTS 128
#define ENGINE_MAX_THREADS 256

#define BUF_ALIGN 4096
#define BUF_MIN_SHIFT 16 /* smallest cached class: 64 KiB */
#define BUF_MAX_SHIFT 26 /* largest cached class: 64 MiB */
#define BUF_CLASSES (BUF_MAX_SHIFT - BUF_MIN_SHIFT + 1)
#define RPC_BUF_CACHE_BYTES (128u << 20)

#if defined(__SANITIZE_ADDRESS__)
#define BUF_CACHE_ON 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BUF_CACHE_ON 0
#endif
#endif
#ifndef BUF_CACHE_ON
#define BUF_CACHE_ON 1
#endif

struct buf_free {
	struct buf_free *next;
};

static struct {
	pthread_mutex_t lock;
	struct buf_free *head[BUF_CLASSES]; /* lock */
	size_t bytes;			    /* lock: total cached */
} buf_cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static __thread struct rpc_loop *cur_loop;

int64_t rpc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rpc_timerfd_set(int tfd, int64_t at)
{
	struct itimerspec its = {0};

	if (at > 0) {
		its.it_value.tv_sec = at / 1000;
		its.it_value.tv_nsec = (at % 1000) * 1000000;
	}
	/* Cannot fail with a valid timerfd and value. */
	(void)timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

struct rpc_opts rpc_opts_default(void)
{
	return (struct rpc_opts){
		.max_frame = 64u << 20,
		.max_inflight = 1024,
		.timeout_ms = 30000,
		.connect_timeout_ms = 5000,
		.reconnect_min_ms = 100,
		.reconnect_max_ms = 5000,
		.socket_buffer = 0,
		.io_threads = 1,
		.workers = 0,
		.data_crc = true,
	};
}

int rpc_opts_check(const struct rpc_opts *o, const char *who)
{
	const char *bad = NULL;

	if (!o->key)
		bad = "key (authentication is mandatory)";
	else if (o->max_frame < PROTO_FRAME_MIN || o->max_frame > PROTO_FRAME_MAX)
		bad = "max_frame";
	else if (o->max_inflight < 1 || o->max_inflight > (1u << 20))
		bad = "max_inflight";
	else if (o->timeout_ms <= 0)
		bad = "timeout_ms";
	else if (o->connect_timeout_ms <= 0)
		bad = "connect_timeout_ms";
	else if (o->reconnect_min_ms <= 0 || o->reconnect_max_ms < o->reconnect_min_ms)
		bad = "reconnect_min_ms/reconnect_max_ms";
	else if (o->socket_buffer < 0)
		bad = "socket_buffer";
	else if (o->io_threads < 1 || o->io_threads > ENGINE_MAX_THREADS)
		bad = "io_threads";
	else if (o->workers < 0 || o->workers > 1024)
		bad = "workers";
	if (bad) {
		log_error("%s: invalid RPC option %s", who, bad);
		return -EINVAL;
	}
	return 0;
}

/* Class index for len, or -1 if len is not cached (too small or too big). */
static int buf_class(uint32_t len)
{
	int shift = BUF_MIN_SHIFT;

	if (!BUF_CACHE_ON || len < (1u << BUF_MIN_SHIFT) / 2 || len > (1u << BUF_MAX_SHIFT))
		return -1;
	while ((1u << shift) < len)
		shift++;
	return shift - BUF_MIN_SHIFT;
}

void *rpc_buf_alloc(uint32_t len)
{
	int cls = buf_class(len);
	void *p = NULL;

	if (cls >= 0) {
		pthread_mutex_lock(&buf_cache.lock);
		p = buf_cache.head[cls];
		if (p) {
			buf_cache.head[cls] = buf_cache.head[cls]->next;
			buf_cache.bytes -= (size_t)1 << (cls + BUF_MIN_SHIFT);
		}
		pthread_mutex_unlock(&buf_cache.lock);
		if (p)
			return p;
		return aligned_alloc(BUF_ALIGN, (size_t)1 << (cls + BUF_MIN_SHIFT));
	}
	if (len < BUF_ALIGN)
		return malloc(len ? len : 1);
	return posix_memalign(&p, BUF_ALIGN, len) ? NULL : p;
}

void rpc_buf_free(void *p, uint32_t len)
{
	int cls = buf_class(len);
	size_t size;

	if (!p)
		return;
	if (cls < 0) {
		free(p);
		return;
	}
	size = (size_t)1 << (cls + BUF_MIN_SHIFT);
	pthread_mutex_lock(&buf_cache.lock);
	if (buf_cache.bytes + size <= RPC_BUF_CACHE_BYTES) {
		struct buf_free *f = p;

		f->next = buf_cache.head[cls];
		buf_cache.head[cls] = f;
		buf_cache.bytes += size;
		p = NULL;
	}
	pthread_mutex_unlock(&buf_cache.lock);
	free(p);
}

void rpc_msg_free(struct rpc_msg *msg)
{
	if (!msg)
		return;
	if (msg->priv)
		rpc_buf_free(msg->data, msg->data_len);
	free(msg);
}

/* ---- loops ---- */

int rpc_loop_add(struct rpc_loop *loop, int fd, uint32_t events, struct rpc_watch *w)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};

	return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int rpc_loop_mod(struct rpc_loop *loop, int fd, uint32_t events, struct rpc_watch *w)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};

	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void rpc_loop_del(struct rpc_loop *loop, int fd)
{
	(void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void rpc_loop_post(struct rpc_loop *loop, struct rpc_task *t)
{
	bool wake = false;

	pthread_mutex_lock(&loop->lock);
	if (!t->queued) {
		t->queued = true;
		rpc_list_add_tail(&loop->tasks, &t->node);
		if (!loop->woken)
			wake = loop->woken = true;
	}
	pthread_mutex_unlock(&loop->lock);
	if (wake) {
		uint64_t one = 1;

		/* Only fails if the counter would overflow: already signalled. */
		(void)!write(loop->evfd, &one, sizeof(one));
	}
}

static void loop_run_tasks(struct rpc_loop *loop)
{
	struct rpc_list tasks;

	rpc_list_init(&tasks);
	pthread_mutex_lock(&loop->lock);
	rpc_list_splice_tail(&tasks, &loop->tasks);
	loop->woken = false;
	pthread_mutex_unlock(&loop->lock);
	while (!rpc_list_empty(&tasks)) {
		struct rpc_task *t = rpc_container_of(tasks.next, struct rpc_task, node);

		rpc_list_del(&t->node);
		pthread_mutex_lock(&loop->lock);
		t->queued = false;
		pthread_mutex_unlock(&loop->lock);
		t->fn(t);
	}
}

static void loop_run_deferred(struct rpc_loop *loop)
{
	while (!rpc_list_empty(&loop->deferred)) {
		struct rpc_task *t = rpc_container_of(loop->deferred.next, struct rpc_task, node);

		rpc_list_del(&t->node);
		t->queued = false;
		t->fn(t);
	}
}

void rpc_loop_defer(struct rpc_loop *loop, struct rpc_task *t)
{
	if (t->queued)
		return;
	t->queued = true;
	rpc_list_add_tail(&loop->deferred, &t->node);
}

static void loop_ev_fn(struct rpc_watch *w, uint32_t events)
{
	struct rpc_loop *loop = rpc_container_of(w, struct rpc_loop, ev_watch);
	uint64_t v;

	(void)events;
	(void)!read(loop->evfd, &v, sizeof(v));
}

static void *loop_main(void *arg)
{
	struct rpc_loop *loop = arg;
	struct epoll_event evs[LOOP_EVENTS];

	cur_loop = loop;
	pthread_setname_np(pthread_self(), "cairn-rpc-io");
	while (!loop->stop) {
		int n = epoll_wait(loop->epfd, evs, LOOP_EVENTS, -1);

		if (n < 0 && errno != EINTR) {
			log_error("rpc: epoll_wait: %s", strerror(errno));
			n = 0;
		}
		for (int i = 0; i < n; i++) {
			struct rpc_watch *w = evs[i].data.ptr;

			w->fn(w, evs[i].events);
		}
		loop_run_tasks(loop);
		loop_run_deferred(loop);
	}
	cur_loop = NULL;
	return NULL;
}

struct sync_call {
	struct rpc_task task;
	void (*fn)(void *arg);
	void *arg;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

static void sync_call_task(struct rpc_task *t)
{
	struct sync_call *s = rpc_container_of(t, struct sync_call, task);

	s->fn(s->arg);
	pthread_mutex_lock(&s->lock);
	s->done = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

void rpc_loop_run_sync(struct rpc_loop *loop, void (*fn)(void *arg), void *arg)
{
	struct sync_call s = {.task.fn = sync_call_task, .fn = fn, .arg = arg};

	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	rpc_loop_post(loop, &s.task);
	pthread_mutex_lock(&s.lock);
	while (!s.done)
		pthread_cond_wait(&s.cond, &s.lock);
	pthread_mutex_unlock(&s.lock);
	pthread_cond_destroy(&s.cond);
	pthread_mutex_destroy(&s.lock);
}

static void loop_stop_task(struct rpc_task *t)
{
	struct rpc_loop *loop = cur_loop;

	(void)t;
	loop->stop = true;
}

static int loop_init(struct rpc_loop *loop, struct rpc_engine *eng)
{
	int ret;

	loop->eng = eng;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop->epfd < 0 || loop->evfd < 0) {
		ret = -errno;
		goto out_close;
	}
	pthread_mutex_init(&loop->lock, NULL);
	rpc_list_init(&loop->tasks);
	rpc_list_init(&loop->deferred);
	loop->ev_watch.fn = loop_ev_fn;
	ret = rpc_loop_add(loop, loop->evfd, EPOLLIN, &loop->ev_watch);
	if (ret)
		goto out_mutex;
	ret = -pthread_create(&loop->thread, NULL, loop_main, loop);
	if (ret)
		goto out_mutex;
	return 0;
out_mutex:
	pthread_mutex_destroy(&loop->lock);
out_close:
	if (loop->epfd >= 0)
		close(loop->epfd);
	if (loop->evfd >= 0)
		close(loop->evfd);
	return ret;
}

static void loop_fini(struct rpc_loop *loop)
{
	struct rpc_task stop = {.fn = loop_stop_task};

	rpc_loop_post(loop, &stop);
	pthread_join(loop->thread, NULL);
	close(loop->epfd);
	close(loop->evfd);
	pthread_mutex_destroy(&loop->lock);
}

/* ---- engine ---- */

int rpc_engine_new(int threads, struct rpc_engine **out)
{
	struct rpc_engine *eng;
	int ret = 0, i;

	if (threads < 1 || threads > ENGINE_MAX_THREADS)
		return -EINVAL;
	eng = calloc(1, sizeof(*eng));
	if (!eng)
		return -ENOMEM;
	eng->loops = calloc((size_t)threads, sizeof(*eng->loops));
	if (!eng->loops) {
		free(eng);
		return -ENOMEM;
	}
	for (i = 0; i < threads; i++) {
		eng->loops[i].epfd = eng->loops[i].evfd = -1;
		ret = loop_init(&eng->loops[i], eng);
		if (ret)
			break;
	}
	if (ret) {
		log_error("rpc: cannot start I/O thread: %s", strerror(-ret));
		while (i-- > 0)
			loop_fini(&eng->loops[i]);
		free(eng->loops);
		free(eng);
		return ret;
	}
	eng->nloops = threads;
	*out = eng;
	return 0;
}

void rpc_engine_free(struct rpc_engine *eng)
{
	if (!eng)
		return;
	if (atomic_load(&eng->users) != 0) {
		log_error("rpc: engine freed with %d clients or servers still attached",
			  atomic_load(&eng->users));
		abort();
	}
	for (int i = 0; i < eng->nloops; i++)
		loop_fini(&eng->loops[i]);
	free(eng->loops);
	free(eng);
}

struct rpc_loop *rpc_engine_pick(struct rpc_engine *eng)
{
	unsigned i = atomic_fetch_add_explicit(&eng->next, 1, memory_order_relaxed);

	return &eng->loops[i % (unsigned)eng->nloops];
}

bool rpc_engine_on_thread(const struct rpc_engine *eng)
{
	return cur_loop && cur_loop->eng == eng;
}

bool rpc_loop_on_thread(const struct rpc_loop *loop)
{
	return cur_loop == loop;
}

int rpc_engine_attach(const struct rpc_opts *o, int threads, struct rpc_engine **out,
		      bool *private_eng)
{
	int ret;

	if (o->engine) {
		*out = o->engine;
		*private_eng = false;
	} else {
		ret = rpc_engine_new(threads, out);
		if (ret)
			return ret;
		*private_eng = true;
	}
	atomic_fetch_add(&(*out)->users, 1);
	return 0;
}

void rpc_engine_detach(struct rpc_engine *eng, bool private_eng)
{
	atomic_fetch_sub(&eng->users, 1);
	if (private_eng)
		rpc_engine_free(eng);
}
