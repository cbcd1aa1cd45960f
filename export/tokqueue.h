/* The tokenizer rules (export/tokrules.h) of a file's examples, run on
 * worker threads while the validator reads on, with every diagnostic still
 * delivered in line order on the caller's thread.
 *
 * The validator hands over, in file order, its own diagnostics
 * (ivs_tokqueue_diag) and the examples to tokenize (ivs_tokqueue_example).
 * They are kept in batches of about a hundred examples; workers take whole
 * batches; a finished batch is delivered (its diagnostics and each example's
 * warnings, in the order handed over) from the caller's next call, so the
 * output is the same whatever the number of threads.  At most a few batches
 * are in flight: memory stays bounded and a full ring makes the caller wait.
 */
#ifndef IVS_EXPORT_TOKQUEUE_H
#define IVS_EXPORT_TOKQUEUE_H

#include <stddef.h>

#include "export/tokrules.h"

typedef struct ivs_tokqueue ivs_tokqueue;

/* Receives each diagnostic in order (d borrowed for the call); its return
 * value is ignored, as the validator ignores on_diag's. */
typedef int (*ivs_tokqueue_deliver_fn)(const ivs_vdiag *d, void *ud);
/* Receives each example's longest prompt + class in tokens, in order. */
typedef void (*ivs_tokqueue_length_fn)(size_t tokens, void *ud);

/* rules is copied (its tokenizer stays borrowed).  threads: worker threads;
 * 0: one per online core; 1: none (everything on the caller's thread, when
 * it hands over a full batch).  *out is the caller's (ivs_tokqueue_free).
 * IVS_ENOMEM; a thread that cannot be started leaves fewer workers. */
int ivs_tokqueue_new(ivs_tokqueue **out, const ivs_tokrules *rules, unsigned threads, ivs_tokqueue_deliver_fn deliver,
                     ivs_tokqueue_length_fn length, void *ud);

/* Stops the workers and frees everything; what was not delivered is lost.
 * Accepts NULL. */
void ivs_tokqueue_free(ivs_tokqueue *q);

/* A diagnostic of the validator's own rules, in its place in the order. */
int ivs_tokqueue_diag(ivs_tokqueue *q, const ivs_vdiag *d);

/* An example to check; its strings are copied (IVS_NUL as a NUL byte, the
 * character it stands for); ex->class_lens may be NULL for C strings.  May deliver finished batches and wait for a
 * free one.  Returns 0, IVS_ENOMEM, or the error of an example checked
 * earlier (see ivs_tokrules_check): after an error every call returns it. */
int ivs_tokqueue_example(ivs_tokqueue *q, const ivs_tok_example *ex);

/* Waits for everything handed over and delivers it. */
int ivs_tokqueue_flush(ivs_tokqueue *q);

/* Worker threads (0 when everything runs on the caller's thread). */
unsigned ivs_tokqueue_threads(const ivs_tokqueue *q);

#endif
