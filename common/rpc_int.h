/*
 * rpc_int.h - internals shared by rpc.c (engine, event loops), rpc_conn.c
 * (framing, send queue), rpc_handshake.c, rpc_client.c and rpc_server.c.
 * Not for users of rpc.h.
 *
 * Objects and who may touch what:
 *   rpc_loop   one I/O thread.  Its epoll set is thread-safe; its task list
 *              is under loop->lock; everything else is its thread's alone.
 *   rpc_conn   one transport connection, refcounted (the loop's registration,
 *              server requests in progress, and transient holders each own a
 *              reference).  Handshake state belongs to the loop thread; the
 *              send queue is under conn->sq.lock.  Receive state belongs to
 *              whoever holds the receive role: the loop thread, except while
 *              a client thread blocked in rpc_call_sync() has taken it (see
 *              rpc_conn_rx_acquire; the role is under conn->sq.lock).
 *   rpc_out    one frame to send: header + body bytes and data iovecs.  While
 *              queued it belongs to the send queue; see struct rpc_out.
 */
#ifndef CAIRN_COMMON_RPC_INT_H
#define CAIRN_COMMON_RPC_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/net.h"
#include "common/rpc.h"
#include "proto/conn.h"
#include "proto/proto.h"

/* ---- intrusive doubly linked list ---- */

struct rpc_list {
	struct rpc_list *next, *prev;
};

static inline void rpc_list_init(struct rpc_list *h)
{
	h->next = h->prev = h;
}

static inline bool rpc_list_empty(const struct rpc_list *h)
{
	return h->next == h;
}

static inline void rpc_list_add_tail(struct rpc_list *h, struct rpc_list *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

/* Inserts n right after pos. */
static inline void rpc_list_add_after(struct rpc_list *pos, struct rpc_list *n)
{
	n->prev = pos;
	n->next = pos->next;
	pos->next->prev = n;
	pos->next = n;
}

static inline void rpc_list_del(struct rpc_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

/* Moves every element of from to the end of to. */
static inline void rpc_list_splice_tail(struct rpc_list *to, struct rpc_list *from)
{
	if (rpc_list_empty(from))
		return;
	from->next->prev = to->prev;
	to->prev->next = from->next;
	from->prev->next = to;
	to->prev = from->prev;
	rpc_list_init(from);
}

#define rpc_container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* ---- time ---- */

/* CLOCK_MONOTONIC in milliseconds. */
int64_t rpc_now_ms(void);

/* Arms (at > 0, absolute CLOCK_MONOTONIC ms) or disarms (at == 0) a timerfd. */
void rpc_timerfd_set(int tfd, int64_t at);

/* ---- engine and event loops (rpc.c) ---- */

/* Something registered in a loop's epoll set; epoll data points here. */
struct rpc_watch {
	void (*fn)(struct rpc_watch *w, uint32_t events);
};

/* A function to run on a loop thread; embeddable, posted at most once. */
struct rpc_task {
	struct rpc_list node; /* loop->tasks, under loop->lock */
	void (*fn)(struct rpc_task *t);
	bool queued; /* under loop->lock */
};

struct rpc_loop {
	struct rpc_engine *eng; /* immutable */
	pthread_t thread;	/* immutable after start */
	int epfd;		/* immutable; epoll_ctl is thread-safe */
	int evfd;		/* immutable */
	struct rpc_watch ev_watch;

	pthread_mutex_t lock;
	struct rpc_list tasks; /* under lock */
	bool woken;	       /* under lock: evfd already written */

	/* Loop thread only. */
	bool stop;
	struct rpc_list deferred; /* conns to unref once the event batch ends */
};

struct rpc_engine {
	int nloops;		/* immutable */
	struct rpc_loop *loops; /* immutable array */
	atomic_uint next;	/* round-robin cursor */
	atomic_int users;	/* clients and servers attached */
};

/* Picks a loop for a new connection or client (round robin). */
struct rpc_loop *rpc_engine_pick(struct rpc_engine *eng);

/* True if the calling thread is one of eng's loop threads. */
bool rpc_engine_on_thread(const struct rpc_engine *eng);

/* True if the calling thread is loop's thread. */
bool rpc_loop_on_thread(const struct rpc_loop *loop);

/* Runs t->fn on loop's thread soon.  A task already queued stays queued once. */
void rpc_loop_post(struct rpc_loop *loop, struct rpc_task *t);

/* Runs t->fn on the current loop thread after the event batch; loop thread only. */
void rpc_loop_defer(struct rpc_loop *loop, struct rpc_task *t);

/* Posts t and waits until it has run (never call from a loop thread). */
void rpc_loop_run_sync(struct rpc_loop *loop, void (*fn)(void *arg), void *arg);

/* epoll registration; return 0 or -errno. */
int rpc_loop_add(struct rpc_loop *loop, int fd, uint32_t events, struct rpc_watch *w);
int rpc_loop_mod(struct rpc_loop *loop, int fd, uint32_t events, struct rpc_watch *w);
void rpc_loop_del(struct rpc_loop *loop, int fd);

/*
 * Buffers for received data: page aligned from 4 KiB; large ones are
 * recycled through a bounded cache.  rpc_buf_free needs the length given to
 * rpc_buf_alloc.  Thread-safe.
 */
void *rpc_buf_alloc(uint32_t len);
void rpc_buf_free(void *p, uint32_t len);

/* Validates opts; logs and returns -EINVAL naming the bad option. */
int rpc_opts_check(const struct rpc_opts *o, const char *who);

/* Gets opts->engine or a private engine of `threads` loops. */
int rpc_engine_attach(const struct rpc_opts *o, int threads, struct rpc_engine **out,
		      bool *private_eng);
void rpc_engine_detach(struct rpc_engine *eng, bool private_eng);

/* ---- frames to send (rpc_conn.c) ---- */

enum rpc_out_state {
	OUT_IDLE,      /* never handed to a queue */
	OUT_QUEUED,    /* in conn->sq.queue */
	OUT_DONE,      /* fully written, or dropped with the connection */
	OUT_ABANDONED, /* its owner took it back; it will never be written */
};

/*
 * A frame to send.  iov[0] is the header and body (in hdr_body), the rest
 * the data.  While OUT_QUEUED, iov/iovcnt/left are advanced by whichever
 * thread is flushing, under sq.lock (or with sq.flushing set).
 *
 * Lifetime: an entry with a sent() callback belongs to the queue once
 * queued, and sent() is called exactly once (no lock held) when it leaves
 * it, with 0 or the connection's error; sent() then frees it.  An entry
 * without sent() is owned by someone else (a client request), who must call
 * rpc_out_detach() before freeing it or releasing its data.
 */
struct rpc_out {
	struct rpc_list node;
	struct iovec *iov;
	int iovcnt;
	size_t left;  /* bytes not yet written */
	size_t total; /* bytes of the whole frame */
	void *copy;   /* SEND_COPY_REST buffer; sent() frees it */
	_Atomic int state; /* enum rpc_out_state, changed under sq.lock */
	void (*sent)(struct rpc_out *o, int err);
};

/* ---- connections (rpc_conn.c) ---- */

enum rpc_stage {
	STAGE_CONNECTING,   /* client: transport connect in progress */
	STAGE_WAIT_HELLO,   /* client: connected, waiting for HELLO */
	STAGE_WAIT_AUTH_OK, /* client: AUTH sent */
	STAGE_WAIT_AUTH,    /* server: HELLO sent */
	STAGE_READY,
};

struct rpc_conn;

/* Where the data of a frame being received goes. */
struct rpc_rx {
	struct rpc_msg *msg; /* header and body already in; data not yet */
	void *dest;	     /* set by rx_begin: data buffer not owned by msg */
	bool discard;	     /* set by rx_begin: drop the data and the frame */
	void *ctx;	     /* set by rx_begin; given back to rx_done/rx_abort */
};

/* The owner's side of a connection; all called on the loop thread. */
struct rpc_conn_ops {
	/* A frame's header and body arrived intact (after the handshake).
	 * Return 0, or the error returned by rpc_conn_fail(). */
	int (*rx_begin)(struct rpc_conn *c, struct rpc_rx *rx);
	/* The whole frame arrived; msg is handed over. */
	void (*rx_done)(struct rpc_conn *c, struct rpc_msg *msg, void *ctx);
	/* The connection died between rx_begin and rx_done. */
	void (*rx_abort)(struct rpc_conn *c, void *ctx, int err);
	/* The handshake completed. */
	void (*ready)(struct rpc_conn *c);
	/* The connection is dead; called once, after the send queue drained. */
	void (*closed)(struct rpc_conn *c, int err);
};

struct rpc_sendq {
	pthread_mutex_t lock; /* also guards the receive role and the epoll mask */
	pthread_cond_t idle;  /* broadcast when flushing ends and waiters > 0 */
	struct rpc_list queue; /* of rpc_out */
	bool flushing;	      /* a thread is writing the head without the lock */
	bool want_out;	      /* socket full: EPOLLOUT armed, the loop flushes */
	bool dead;	      /* nothing more is queued or written */
	int cork;	      /* > 0: the loop flushes when the read batch ends */
	int waiters;	      /* threads waiting for !flushing */
	int err;	      /* first send error */
};

enum rpc_rx_state { RX_HDR, RX_BODY, RX_DATA };

struct rpc_conn {
	atomic_int refs;
	struct rpc_loop *loop;		  /* immutable */
	const struct net_ops *net;	  /* immutable */
	struct net_conn *nc;		  /* closed on the loop thread when dead */
	int fd;				  /* immutable copy of net->fd(nc) */
	const struct rpc_conn_ops *ops;	  /* immutable */
	void *owner;			  /* immutable; must outlive the closed() call */
	const struct auth_key *key;	  /* immutable */
	bool is_server;			  /* immutable */
	bool send_crc;			  /* immutable: set PROTO_F_DATA_CRC */
	uint32_t max_frame;		  /* immutable: our limit once authenticated */
	uint32_t max_inflight;		  /* immutable: our limit (server) */
	char peer[NET_ADDR_MAX];	  /* immutable */

	/* Loop thread only. */
	enum rpc_stage stage;
	bool dead;
	uint16_t version; /* settled protocol version */
	uint8_t nonce[PROTO_NONCE_SIZE];
	uint8_t peer_nonce[PROTO_NONCE_SIZE];
	uint32_t rx_limit; /* current max frame: small until authenticated */
	int timerfd;	   /* handshake deadline, -1 once ready */
	struct rpc_watch io_watch;
	struct rpc_watch timer_watch;
	struct rpc_list owner_node; /* server: its loop's connection list */

	/* Set by the handshake on the loop thread before ready(); read-only after. */
	uint32_t peer_max_frame;
	uint32_t peer_max_inflight;

	/* Request from another thread to close the connection. */
	struct rpc_task kill_task; /* posted at most once */
	atomic_int kill_posted;
	atomic_int kill_err;
	struct rpc_task release_task; /* drops the loop's reference after death */

	/* Server: requests handed to the handler and not replied yet. */
	atomic_uint inflight;

	struct rpc_sendq sq;
	uint32_t armed; /* sq.lock: events the fd is registered for */

	/*
	 * The receive role, under sq.lock.  Exactly one of: nobody (EPOLLIN
	 * armed: the loop reads when data comes), the loop (rx_loop, inside a
	 * read batch), or one caller thread (rx_caller; EPOLLIN disarmed so the
	 * loop is not woken for the data the caller reads).  The holder owns
	 * the receive state below.  rpc_conn_kill() clears rx_shared, wakes
	 * the caller through rx_wakefd and waits on rx_idle for it to let go,
	 * so a dead connection is never read and its fd never closed under a
	 * reader.
	 */
	bool rx_shared;		  /* callers may take the role (client, ready, alive) */
	bool rx_caller;		  /* a caller holds the role */
	bool rx_loop;		  /* the loop thread is reading */
	int rx_kill_waiting;	  /* the loop waits on rx_idle */
	pthread_cond_t rx_idle;	  /* broadcast when a caller lets go */
	int rx_wakefd;		  /* immutable eventfd (client), -1 (server) */

	/* Receive state, owned by the receive role's holder (see above). */
	int rx_err;	   /* a caller's read failed: kill posted, nobody reads */
	uint8_t *rbuf;
	uint32_t rpos, rend;
	enum rpc_rx_state rx_state;
	uint8_t rhdr_raw[PROTO_HDR_SIZE];
	struct proto_hdr rhdr;
	struct rpc_rx rx;
	uint32_t rgot;	   /* bytes of the current body or data received */
	uint8_t *rdata;	   /* destination of the current data */
	bool rdata_owned;  /* rdata belongs to rx.msg */
	bool rx_claimed;   /* rx_begin succeeded; rx_done or rx_abort is owed */
};

struct rpc_conn_args {
	struct rpc_loop *loop;
	const struct net_ops *net;
	struct net_conn *nc; /* handed over, closed on failure too */
	const struct rpc_conn_ops *ops;
	void *owner;
	const struct rpc_opts *opts;
	bool is_server;
	bool connecting; /* client: transport connect still in progress */
	bool caller_rx;	 /* client: threads may take the receive role */
};

/*
 * Creates a connection (refcount 1, the caller's), registers it with its loop
 * and starts the handshake (the server sends HELLO).  Must run on the loop
 * thread.  Returns 0 or -errno (the net connection is closed).
 */
int rpc_conn_start(const struct rpc_conn_args *a, struct rpc_conn **out);

void rpc_conn_ref(struct rpc_conn *c);
void rpc_conn_unref(struct rpc_conn *c);

/*
 * Logs why (one line naming the peer) and kills; returns err.  Loop thread,
 * or a caller holding the receive role (the kill is then posted to the loop).
 */
int rpc_conn_fail(struct rpc_conn *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Closes the connection with err; on the loop thread only. */
void rpc_conn_kill(struct rpc_conn *c, int err);

/* Asks the loop thread to close the connection with err; any thread. */
void rpc_conn_kill_async(struct rpc_conn *c, int err);

enum rpc_send_flags {
	SEND_NOW = 1u << 0,	  /* write now even if the connection is corked */
	SEND_COPY_REST = 1u << 1, /* queue-owned o: copy what cannot be written now
				   * into o->copy, so the data is not borrowed
				   * past this call; implies SEND_NOW */
};

/*
 * Queues o and writes what the socket takes now, unless another thread is
 * writing or the loop will.  Any thread.  Returns 0, -ECONNRESET if the
 * connection is dead (o not queued, sent() not called), or -ECANCELED if o
 * was abandoned before it could be queued.  A queue-owned o must not be
 * touched by the caller after a 0 return.
 */
int rpc_conn_send(struct rpc_conn *c, struct rpc_out *o, unsigned flags);

/*
 * Takes o back from the queue: if queued and untouched it is unlinked; if
 * partly written, its remaining bytes are copied into a queue-owned entry
 * that takes its place.  Afterwards o is never written or referenced by the
 * queue.  Any thread.
 */
void rpc_out_detach(struct rpc_conn *c, struct rpc_out *o);

/*
 * True if o has been fully written or abandoned: the queue will never touch
 * it again, so its owner may skip rpc_out_detach().
 */
static inline bool rpc_out_settled(const struct rpc_out *o)
{
	int s = atomic_load_explicit(&o->state, memory_order_acquire);

	return s == OUT_DONE || s == OUT_ABANDONED;
}

/* ---- handshake (rpc_handshake.c), loop thread ---- */

/* Server: sends HELLO.  0 or -errno. */
int rpc_conn_send_hello(struct rpc_conn *c);
/* A frame before the handshake completed.  0, or the error it was killed with. */
int rpc_conn_handshake_frame(struct rpc_conn *c, const struct rpc_msg *msg);
/* The handshake deadline (conn->timer_watch). */
void rpc_conn_handshake_timeout(struct rpc_watch *w, uint32_t events);

/*
 * Caller-side receiving, for a client thread blocked on a call (never a loop
 * thread).  rpc_conn_rx_acquire() takes the receive role if the connection
 * is ready, alive, and nobody reads it; it returns false otherwise.  The
 * holder calls rpc_conn_rx_poll() until its answer is in, then
 * rpc_conn_rx_release().  rpc_conn_rx_poll() waits up to timeout_ms for
 * data and reads and dispatches what came (ops->rx_begin / rx_done run on
 * the caller); it returns 0, -ETIMEDOUT if nothing came, or an error: the
 * connection failed (its kill is posted to the loop) or is being killed,
 * and the role must be released.  Lock order: an owner's lock may be held
 * around acquire and release (they take sq.lock).
 */
bool rpc_conn_rx_acquire(struct rpc_conn *c);
int rpc_conn_rx_poll(struct rpc_conn *c, int timeout_ms);
void rpc_conn_rx_release(struct rpc_conn *c);

/* Encodes h (with the connection's settled version) and its CRC into out. */
void rpc_frame_encode(const struct rpc_conn *c, struct proto_hdr *h, const void *body,
		      uint8_t out[PROTO_HDR_SIZE]);

#endif
