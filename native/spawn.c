/*
 * poolrun's spawn addon (issue 15): posix_spawn instead of libuv's fork(), whose cost grows with poolrun's memory.
 *
 * spawn(file, argv, envp, cwd, briefMs) -> [pid, stdoutFd, stderrFd, selfMaxRssKiB, leaderStart, exit?, out?, err?]
 *   | -errno
 *   The child gets a session and process group of its own (POSIX_SPAWN_SETSID), /dev/null on stdin, the write ends
 *   of two pipes on stdout/stderr, exactly `envp`, every signal at its default and none blocked (as libuv does).
 *   A bare `file` is looked up in envp's PATH, as execvp would (libuv sets environ to the child's, then execvp);
 *   a file the kernel will not run (ENOEXEC) runs with /bin/sh, as glibc's execvp does.
 *   The parent ends of the pipes come back as fds (O_CLOEXEC) for JS to read. leaderStart: the child's start time
 *   (/proc/PID/stat field 22, a string as written there, see src/proc/owner.ts), read before anyone can reap it, or
 *   undefined where /proc cannot tell. briefMs > 0: a job that has exited, and whose pipes every writer has
 *   closed, within that long (the calling thread waits: a worker runs one job at a time) comes back finished:
 *   `exit` as reap gives it, its output as Buffers (undefined when empty), the fds -1. Otherwise nothing of it has
 *   been read or reaped: the fds are JS's to read as usual. For a tiny job this saves two sockets, their
 *   events and timers (issue 15, B1).
 * reap(pid, waitMs) -> undefined while it runs | [exitCode, signal, userUs, systemUs, maxRssKiB, groupGone]
 *   wait4 on that pid only, WNOHANG, on the JS thread (libuv's children stay libuv's). An earlier version watched
 *   each child from a thread through a threadsafe function: a child exiting while Node exited (or a worker thread
 *   was torn down) made that thread call into a freed function (SIGSEGV). Now nothing runs off the JS thread.
 * spawnHelper(file, argv, envp) -> [pid, stdinFd] | -errno: the watchdog's start, the same way (see below).
 * No libuv call (node-api-headers has no uv.h): the JS side wraps the fds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void free_strv(char **v) {
  if (!v) return;
  for (char **p = v; *p; p++) free(*p);
  free(v);
}

static char *get_string(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (!s) return NULL;
  if (napi_get_value_string_utf8(env, v, s, len + 1, &len) != napi_ok) {
    free(s);
    return NULL;
  }
  return s;
}

static char **get_strv(napi_env env, napi_value arr) {
  uint32_t n = 0;
  if (napi_get_array_length(env, arr, &n) != napi_ok) return NULL;
  char **v = calloc((size_t)n + 1, sizeof(char *));
  if (!v) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    if (napi_get_element(env, arr, i, &e) != napi_ok || !(v[i] = get_string(env, e))) {
      free_strv(v);
      return NULL;
    }
  }
  return v;
}

/* A session of its own, every signal at its default and none blocked (as libuv gives a detached child). */
static int session_attrs(posix_spawnattr_t *at) {
  sigset_t all, none;
  int e;
  sigfillset(&all);
  sigemptyset(&none);
  if ((e = posix_spawnattr_setflags(at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)))
    return e;
  if ((e = posix_spawnattr_setsigdefault(at, &all))) return e;
  return posix_spawnattr_setsigmask(at, &none);
}

/* One spawn attempt of `path`; 0 or an errno. */
static int spawn_one(pid_t *pid, const char *path, char **argv, char **envp, const char *cwd, int out_w,
                     int err_w) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  int e;
  if ((e = posix_spawn_file_actions_init(&fa))) return e;
  if ((e = posix_spawnattr_init(&at))) {
    posix_spawn_file_actions_destroy(&fa);
    return e;
  }
  if (!(e = session_attrs(&at)) && !(e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) &&
      !(e = posix_spawn_file_actions_adddup2(&fa, out_w, 1)) &&
      !(e = posix_spawn_file_actions_adddup2(&fa, err_w, 2)) &&
      !(e = cwd ? posix_spawn_file_actions_addchdir_np(&fa, cwd) : 0))
    e = posix_spawn(pid, path, &fa, &at, argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  return e;
}

/* posix_spawn, and /bin/sh for what the kernel cannot run (ENOEXEC), as execvp does. */
static int spawn_exec(pid_t *pid, const char *path, char **argv, char **envp, const char *cwd, int out_w,
                      int err_w) {
  int e = spawn_one(pid, path, argv, envp, cwd, out_w, err_w);
  if (e != ENOEXEC) return e;
  size_t n = 0;
  while (argv[n]) n++;
  char **sh = calloc(n + 2, sizeof(char *));
  if (!sh) return ENOMEM;
  sh[0] = "/bin/sh";
  sh[1] = (char *)path;
  for (size_t i = 1; i < n; i++) sh[i + 1] = argv[i];
  e = spawn_one(pid, "/bin/sh", sh, envp, cwd, out_w, err_w);
  free(sh);
  return e;
}

/* execvp's search: envp's PATH (or /usr/bin:/bin), an empty entry meaning the current folder. */
static int spawn_search(pid_t *pid, const char *file, char **argv, char **envp, const char *cwd, int out_w,
                        int err_w) {
  if (!*file) return ENOENT;
  if (strchr(file, '/')) return spawn_exec(pid, file, argv, envp, cwd, out_w, err_w);
  const char *path = "/usr/bin:/bin";
  for (char **p = envp; *p; p++)
    if (!strncmp(*p, "PATH=", 5)) {
      path = *p + 5;
      break;
    }
  size_t flen = strlen(file);
  char *buf = malloc(strlen(path) + flen + 2);
  if (!buf) return ENOMEM;
  int seen_eacces = 0, e = ENOENT;
  const char *s = path;
  for (;;) {
    const char *colon = strchr(s, ':');
    size_t dlen = colon ? (size_t)(colon - s) : strlen(s);
    if (dlen == 0) {
      memcpy(buf, file, flen + 1);
    } else {
      memcpy(buf, s, dlen);
      buf[dlen] = '/';
      memcpy(buf + dlen + 1, file, flen + 1);
    }
    /* A missing candidate costs a stat here rather than a clone (only a relative candidate needs the child's cwd). */
    struct stat st;
    int skip = buf[0] == '/' && stat(buf, &st) != 0 && (errno == ENOENT || errno == ENOTDIR);
    if (!skip) {
      e = spawn_exec(pid, buf, argv, envp, cwd, out_w, err_w);
      if (e == EACCES) seen_eacces = 1;
      if (e != EACCES && e != ENOENT && e != ENOTDIR && e != ESTALE && e != ENODEV && e != ETIMEDOUT) break;
    }
    if (!colon) {
      e = seen_eacces ? EACCES : ENOENT;
      break;
    }
    s = colon + 1;
  }
  free(buf);
  return e;
}

/*
 * Field 22 of /proc/PID/stat (start time, clock ticks since boot) into buf, as written; 0, or -1 when it cannot be
 * read. The command name (field 2) may hold anything: the fields are counted after its last ')', as owner.ts does.
 */
static int read_start(pid_t pid, char *out, size_t outlen) {
  char path[32], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n;
  do n = read(fd, buf, sizeof buf - 1);
  while (n < 0 && errno == EINTR);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  if (!p || p[1] != ' ') return -1;
  p += 2; /* field 3 */
  for (int field = 3; field < 22; field++) {
    p = strchr(p, ' ');
    if (!p) return -1;
    p++;
  }
  size_t len = strcspn(p, " \n");
  if (len == 0 || len >= outlen) return -1;
  for (size_t i = 0; i < len; i++)
    if (p[i] < '0' || p[i] > '9') return -1;
  memcpy(out, p, len);
  out[len] = 0;
  return 0;
}

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434 /* the same number on every Linux architecture */
#endif

static pid_t wait_nohang(pid_t pid, int *status, struct rusage *ru) {
  pid_t r;
  do r = wait4(pid, status, WNOHANG, ru);
  while (r < 0 && errno == EINTR);
  return r;
}

/* [code (-1 when signalled), signal, user µs, system µs, maxrss KiB, groupGone] of a reaped child (see reap). */
static napi_value exit_array(napi_env env, pid_t pid, pid_t r, int status, const struct rusage *ru) {
  double vals[6] = {-1, 0, 0, 0, 0, 0};
  if (r == pid) {
    if (WIFEXITED(status)) vals[0] = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) vals[1] = WTERMSIG(status);
    vals[2] = (double)ru->ru_utime.tv_sec * 1e6 + ru->ru_utime.tv_usec;
    vals[3] = (double)ru->ru_stime.tv_sec * 1e6 + ru->ru_stime.tv_usec;
    vals[4] = (double)ru->ru_maxrss;
    vals[5] = kill(-pid, 0) < 0 && errno == ESRCH;
  }
  napi_value result;
  napi_create_array_with_length(env, 6, &result);
  for (uint32_t i = 0; i < 6; i++) {
    napi_value v;
    napi_create_double(env, vals[i], &v);
    napi_set_element(env, result, i, v);
  }
  return result;
}

static long elapsed_us(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (t.tv_sec - t0->tv_sec) * 1000000L + (t.tv_nsec - t0->tv_nsec) / 1000;
}

/*
 * Whether, within budget_ms, the child exits and both pipes reach end-of-file (every writer gone, a grandchild's
 * too). Nothing is read meanwhile (a pipe with data but writers left does not wake poll: events 0 reports only the
 * hang-up), and nothing is reaped: when it says no, the child and its pipes are exactly as spawn left them.
 */
static int ends_within(pid_t pid, int out, int err, int budget_ms) {
  int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pfd < 0) return 0;
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int exited = 0, out_hup = 0, err_hup = 0, bad = 0;
  while (!bad && !(exited && out_hup && err_hup)) {
    long left = budget_ms * 1000L - elapsed_us(&t0);
    if (left <= 0) break;
    struct pollfd p[3];
    int which[3], n = 0;
    if (!exited) p[n] = (struct pollfd){.fd = pfd, .events = POLLIN}, which[n++] = 0;
    if (!out_hup) p[n] = (struct pollfd){.fd = out, .events = 0}, which[n++] = 1;
    if (!err_hup) p[n] = (struct pollfd){.fd = err, .events = 0}, which[n++] = 2;
    int k = poll(p, (nfds_t)n, (int)((left + 999) / 1000));
    if (k < 0 && errno != EINTR) break;
    for (int i = 0; k > 0 && i < n; i++) {
      short ev = p[i].revents;
      if (!ev) continue;
      if (which[i] == 0) exited = 1;
      else if (!(ev & POLLHUP)) bad = 1;
      else if (which[i] == 1) out_hup = 1;
      else err_hup = 1;
    }
  }
  close(pfd);
  return !bad && exited && out_hup && err_hup;
}

/* All that is left in a pipe whose writers are gone, as a Buffer (undefined when empty); the fd is closed. */
static napi_value drain_pipe(napi_env env, int fd) {
  size_t cap = 0, len = 0;
  char *buf = NULL;
  for (;;) {
    if (cap - len < 4096) {
      size_t ncap = cap ? cap * 2 : 16384;
      char *nb = realloc(buf, ncap);
      if (!nb) break;
      buf = nb;
      cap = ncap;
    }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (size_t)n;
  }
  close(fd);
  napi_value v;
  if (len) napi_create_buffer_copy(env, len, buf, NULL, &v);
  else napi_get_undefined(env, &v);
  free(buf);
  return v;
}

static napi_value js_spawn(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value args[5], result;
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int32_t brief_ms = 0;
  if (argc < 4 || (argc >= 5 && napi_get_value_int32(env, args[4], &brief_ms) != napi_ok)) {
    napi_throw_type_error(env, NULL, "spawn(file, argv, envp, cwd, briefMs)");
    return NULL;
  }
  napi_valuetype cwd_type;
  napi_typeof(env, args[3], &cwd_type);
  char *file = get_string(env, args[0]);
  char **argv = get_strv(env, args[1]);
  char **envp = get_strv(env, args[2]);
  char *cwd = cwd_type == napi_string ? get_string(env, args[3]) : NULL;
  int e = 0, out[2] = {-1, -1}, err[2] = {-1, -1};
  pid_t pid = 0;
  if (!file || !argv || !envp || (cwd_type == napi_string && !cwd)) {
    napi_throw_type_error(env, NULL, "spawn: strings expected");
    goto done;
  }
  if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
    e = errno;
    goto done;
  }
  e = spawn_search(&pid, file, argv, envp, cwd, out[1], err[1]);
  if (e) goto done;
done:
  if (out[1] >= 0) close(out[1]);
  if (err[1] >= 0) close(err[1]);
  if (e) {
    if (out[0] >= 0) close(out[0]);
    if (err[0] >= 0) close(err[0]);
  }
  free(file);
  free(cwd);
  free_strv(argv);
  free_strv(envp);
  bool pending;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return NULL;
  if (e) {
    napi_create_int32(env, -e, &result);
    return result;
  }
  /* After the child's exec: poolrun's peak so far, which the kernel counts in the child's own (see spawn-native.ts). */
  struct rusage self;
  memset(&self, 0, sizeof self);
  getrusage(RUSAGE_SELF, &self);
  /* The child is certainly unreaped here (only the JS thread reaps it): its number is its own. */
  char start[32];
  int have_start = read_start(pid, start, sizeof start) == 0;
  /* A brief job ends here: its output and exit come back with it, and its pipes are closed (fds -1). */
  napi_value finished = NULL, out_data = NULL, err_data = NULL;
  if (brief_ms > 0 && ends_within(pid, out[0], err[0], brief_ms)) {
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    pid_t r = wait_nohang(pid, &status, &ru);
    if (r != 0) {
      finished = exit_array(env, pid, r, status, &ru);
      out_data = drain_pipe(env, out[0]);
      err_data = drain_pipe(env, err[0]);
      out[0] = err[0] = -1;
    }
  }
  napi_create_array_with_length(env, finished ? 8 : 5, &result);
  napi_value v;
  napi_create_int32(env, pid, &v);
  napi_set_element(env, result, 0, v);
  napi_create_int32(env, out[0], &v);
  napi_set_element(env, result, 1, v);
  napi_create_int32(env, err[0], &v);
  napi_set_element(env, result, 2, v);
  napi_create_double(env, (double)self.ru_maxrss, &v);
  napi_set_element(env, result, 3, v);
  if (have_start)
    napi_create_string_utf8(env, start, NAPI_AUTO_LENGTH, &v);
  else
    napi_get_undefined(env, &v);
  napi_set_element(env, result, 4, v);
  if (finished) {
    napi_set_element(env, result, 5, finished);
    napi_set_element(env, result, 6, out_data);
    napi_set_element(env, result, 7, err_data);
  }
  return result;
}

/*
 * reap(pid, waitMs): wait4(pid, WNOHANG) on this child only (never libuv's): undefined while it runs, else
 * [code (-1 when signalled), signal, user µs, system µs, maxrss KiB, groupGone]; [-1, 0, 0, 0, 0, 0] if it was
 * reaped elsewhere. groupGone is 1 when, the leader reaped, its process group held nobody (kill(-pid, 0): ESRCH):
 * nothing of the job is left, and nothing can join an empty group, so there is nothing to signal later.
 * waitMs > 0: while it runs, wait up to that long for its exit (a pidfd, polled) before saying so. The JS side asks
 * that once both pipes have closed: a process's exit closes its files a moment before it becomes a zombie, and
 * a timer would free the job's slot a millisecond or more later (a process that closed its stdio on purpose and
 * runs on costs that wait once).
 * No thread and no threadsafe function: nothing of the addon runs outside the JS thread, so nothing can touch Node
 * once it is exiting or a worker thread is being torn down. The JS side calls it when the child's pipes close and
 * then on a timer (spawn-native.ts).
 */
static napi_value js_reap(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2], result;
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int32_t pid = 0, wait_ms = 0;
  if (argc < 1 || napi_get_value_int32(env, args[0], &pid) != napi_ok || pid <= 0 ||
      (argc >= 2 && napi_get_value_int32(env, args[1], &wait_ms) != napi_ok)) {
    napi_throw_type_error(env, NULL, "reap(pid, waitMs)");
    return NULL;
  }
  int status = 0;
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  pid_t r = wait_nohang((pid_t)pid, &status, &ru);
  if (r == 0 && wait_ms > 0) {
    int pfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    if (pfd >= 0) {
      struct pollfd p = {.fd = pfd, .events = POLLIN};
      poll(&p, 1, wait_ms > 1000 ? 1000 : wait_ms);
      close(pfd);
      r = wait_nohang((pid_t)pid, &status, &ru);
    }
  }
  if (r == 0) {
    napi_get_undefined(env, &result);
    return result;
  }
  return exit_array(env, (pid_t)pid, r, status, &ru);
}

/*
 * spawnHelper(file, argv, envp) -> [pid, stdinFd] | -errno: a helper process (the watchdog, src/proc/watchdog.ts)
 * without a fork of poolrun: a session of its own, the read end of a pipe on its stdin (the write end comes back,
 * O_CLOEXEC, for JS to write), /dev/null on stdout and stderr, every signal at its default and none blocked. `file`
 * is a path. Reaped with reap(), like a job.
 */
static napi_value js_spawn_helper(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value args[3], result;
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  if (argc < 3) {
    napi_throw_type_error(env, NULL, "spawnHelper(file, argv, envp)");
    return NULL;
  }
  char *file = get_string(env, args[0]);
  char **argv = get_strv(env, args[1]);
  char **envp = get_strv(env, args[2]);
  int e = 0, in[2] = {-1, -1};
  pid_t pid = 0;
  if (!file || !argv || !envp) {
    napi_throw_type_error(env, NULL, "spawnHelper: strings expected");
    goto done;
  }
  if (pipe2(in, O_CLOEXEC)) {
    e = errno;
    goto done;
  }
  /* An end that is 0, 1 or 2 (poolrun started with them closed) would be the child's stdio as it is: moved up. */
  for (int i = 0; i < 2; i++) {
    if (in[i] > 2) continue;
    int moved = fcntl(in[i], F_DUPFD_CLOEXEC, 3);
    if (moved < 0) {
      e = errno;
      goto done;
    }
    close(in[i]);
    in[i] = moved;
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  if ((e = posix_spawn_file_actions_init(&fa))) goto done;
  if ((e = posix_spawnattr_init(&at))) {
    posix_spawn_file_actions_destroy(&fa);
    goto done;
  }
  if (!(e = session_attrs(&at)) && !(e = posix_spawn_file_actions_adddup2(&fa, in[0], 0)) &&
      !(e = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0)) &&
      !(e = posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0)))
    e = posix_spawn(&pid, file, &fa, &at, argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
done:
  if (in[0] >= 0) close(in[0]);
  if (e && in[1] >= 0) close(in[1]);
  free(file);
  free_strv(argv);
  free_strv(envp);
  bool pending;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    if (!e && in[1] >= 0) close(in[1]);
    return NULL;
  }
  if (e) {
    napi_create_int32(env, -e, &result);
    return result;
  }
  napi_value v;
  napi_create_array_with_length(env, 2, &result);
  napi_create_int32(env, pid, &v);
  napi_set_element(env, result, 0, v);
  napi_create_int32(env, in[1], &v);
  napi_set_element(env, result, 1, v);
  return result;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn;
  if (napi_create_function(env, "spawn", NAPI_AUTO_LENGTH, js_spawn, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "spawn", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "reap", NAPI_AUTO_LENGTH, js_reap, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "reap", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "spawnHelper", NAPI_AUTO_LENGTH, js_spawn_helper, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "spawnHelper", fn) != napi_ok) return NULL;
  return exports;
}
