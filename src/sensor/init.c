/*
 * slimify sensor init: PID 1 of the traced container.
 *
 * strace as PID 1 does not pass the stop signal on, so `docker stop` would wait out its grace
 * period and SIGKILL everything, cutting the trace short. This init starts the tracer (argv[1..]),
 * forwards every signal it receives to the traced application (the tracer's only child, found in
 * /proc), reaps orphans, and exits with the tracer's status once the tracer is done, which is
 * after the application and all its traced descendants have exited and the trace is complete.
 *
 * As in a container without tracing, the application's main process ending ends the container:
 * once it is gone, every process left (except the tracer) is killed, so strace can finish.
 *
 * Options, before the command:
 *   --hold      keep the container up after the app is gone, until a signal asks it to stop
 *               (commands run with `docker exec` in images whose app exits at once: CLI tools)
 *   --untraced  the command is the app itself, not a tracer (verification runs of such images)
 *
 * `init --clear DIR` instead removes everything under DIR (links not followed, other mounts not
 * entered) and exits: run as root in a container, it clears a bound trace dir of what an app
 * running as root left there, which slimify itself, not being root, could not remove.
 *
 * `init --pause` does nothing until a signal asks it to stop: the process of a container that
 * only holds the image's filesystem mounted, so slimify can read it where the engine mounted it.
 *
 * `init --walk DIR` runs on the host, not in a container: it lists everything under DIR as the
 * export of a container lists it (depth first, each directory's names in byte order; other
 * filesystems mounted below DIR are not entered), one record per entry of five NUL-terminated
 * fields: the path from DIR ("/etc/passwd"); "TYPE MODE UID GID SIZE MTIME NLINK INO MAJOR
 * MINOR" (type f d l c b p s, mode in octal); a symlink's target; in hex, the first bytes of a
 * regular file (up to 256 when it starts with "#!", else 4: enough to tell ELF files and scripts
 * apart); in hex, the security.capability xattr (file capabilities, the one xattr the export
 * carries). slimify reads an image where the engine mounts it with it: in C it takes a tenth of
 * the time the same walk takes in Node, and Node has no call for extended attributes.
 *
 * `init --serve` runs in a container of the image (see container-filesystem.ts): the same walk of
 * its root, then the bytes of the files slimify asks for, so a build that cannot read where the
 * engine mounts the image (not root, a remote engine) reads only what it keeps, not the whole export.
 *
 * Built statically so it runs in any image (no shell, no libc needed).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <ftw.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static void on_signal(int sig) { (void)sig; }

/* The pid whose parent is `parent`, from /proc/N/stat ("pid (comm) state ppid ..."). */
static pid_t child_of(pid_t parent) {
  DIR *proc = opendir("/proc");
  if (!proc) return -1;
  struct dirent *entry;
  pid_t found = -1;
  while ((entry = readdir(proc)) != NULL) {
    char *end;
    long pid = strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 1) continue;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *close = strrchr(buf, ')');
    if (!close) continue;
    char state;
    long ppid;
    if (sscanf(close + 1, " %c %ld", &state, &ppid) == 2 && ppid == parent) {
      found = (pid_t)pid;
      break;
    }
  }
  closedir(proc);
  return found;
}

/* Whether `pid` still exists as a child of `parent`. */
static int is_child(pid_t pid, pid_t parent) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *close = strrchr(buf, ')');
  char state;
  long ppid;
  return close && sscanf(close + 1, " %c %ld", &state, &ppid) == 2 && ppid == parent && state != 'Z';
}

/* SIGKILL every process in the namespace but this init and the tracer. */
static void kill_others(pid_t tracer) {
  DIR *proc = opendir("/proc");
  if (!proc) return;
  struct dirent *entry;
  while ((entry = readdir(proc)) != NULL) {
    char *end;
    long pid = strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 1 || pid == tracer) continue;
    kill((pid_t)pid, SIGKILL);
  }
  closedir(proc);
}

static int clear_failed = 0;

/* nftw callback: remove one entry, children before their directory (FTW_DEPTH); the top stays. */
static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *at) {
  (void)st;
  if (at->level == 0) return 0;
  if ((type == FTW_DP ? rmdir(path) : unlink(path)) != 0) {
    fprintf(stderr, "slimify-init: cannot remove %s: %s\n", path, strerror(errno));
    clear_failed = 1;
  }
  return 0;
}

static int clear(const char *dir) {
  if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0) {
    fprintf(stderr, "slimify-init: cannot walk %s: %s\n", dir, strerror(errno));
    return 1;
  }
  return clear_failed;
}

/*
 * A pid namespace's init only receives signals it handles, so handle them all and block them, to
 * wait for them synchronously: `all` is the set to wait on, `previous` (if given) the mask before.
 */
static void take_all_signals(sigset_t *all, sigset_t *previous) {
  sigfillset(all);
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    signal(sig, on_signal);
  }
  sigprocmask(SIG_BLOCK, all, previous);
}

static int pause_until_signal(void) {
  sigset_t all;
  take_all_signals(&all, NULL);
  for (;;) {
    int sig = sigwaitinfo(&all, NULL);
    if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT) return 0;
  }
}

static char walk_path[8192];
static size_t walk_root_length;
/* where the records go: stdout for --walk, a memory stream for --serve */
static FILE *walk_out;

static void put_hex(const unsigned char *bytes, size_t length) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < length; i++) {
    putc(digits[bytes[i] >> 4], walk_out);
    putc(digits[bytes[i] & 15], walk_out);
  }
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int walk_failure(const char *what) {
  fprintf(stderr, "slimify-init: cannot %s %s: %s\n", what, walk_path, strerror(errno));
  return 1;
}

/* One record for the entry at walk_path (see the comment at the top); 0 when written. */
static int walk_entry(const struct stat *st) {
  char type = S_ISREG(st->st_mode) ? 'f' : S_ISDIR(st->st_mode) ? 'd' : S_ISLNK(st->st_mode) ? 'l' : S_ISCHR(st->st_mode) ? 'c' : S_ISBLK(st->st_mode) ? 'b' : S_ISFIFO(st->st_mode) ? 'p' : 's';
  fputs(walk_path + walk_root_length, walk_out);
  putc(0, walk_out);
  fprintf(walk_out, "%c %o %u %u %lld %lld %lu %llu %u %u", type, (unsigned)(st->st_mode & 07777), (unsigned)st->st_uid, (unsigned)st->st_gid, (long long)st->st_size, (long long)st->st_mtim.tv_sec,
          (unsigned long)st->st_nlink, (unsigned long long)st->st_ino, major(st->st_rdev), minor(st->st_rdev));
  putc(0, walk_out);
  if (type == 'l') {
    char target[4096];
    ssize_t length = readlink(walk_path, target, sizeof target);
    if (length < 0) return walk_failure("read the link");
    fwrite(target, 1, (size_t)length, walk_out);
  }
  putc(0, walk_out);
  if (type == 'f' && st->st_size > 0) {
    unsigned char head[256];
    int fd = open(walk_path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return walk_failure("open");
    ssize_t length = read(fd, head, sizeof head);
    close(fd);
    if (length < 0) return walk_failure("read");
    put_hex(head, length >= 2 && head[0] == '#' && head[1] == '!' ? (size_t)length : (size_t)(length < 4 ? length : 4));
  }
  putc(0, walk_out);
  unsigned char capability[1024];
  ssize_t size = type == 'l' ? -1 : lgetxattr(walk_path, "security.capability", capability, sizeof capability);
  if (size > 0) put_hex(capability, (size_t)size);
  putc(0, walk_out);
  return 0;
}

/* Mount points the walk enters all the same (--serve: the image's volumes, which hold its files). */
static char **walk_enter;
static int walk_enter_count;

static int entered_anyway(void) {
  for (int i = 0; i < walk_enter_count; i++)
    if (strcmp(walk_path + walk_root_length, walk_enter[i]) == 0) return 1;
  return 0;
}

/* Lists the directory at walk_path (walk_path[0..length)), on `device`, depth first in byte order. */
static int walk_directory(size_t length, dev_t device) {
  DIR *dir = opendir(walk_path);
  if (!dir) return walk_failure("open the directory");
  char **names = NULL;
  size_t count = 0, room = 0;
  struct dirent *entry;
  int failed = 0;
  while ((errno = 0, entry = readdir(dir)) != NULL) {
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
    if (count == room) {
      room = room ? room * 2 : 64;
      char **grown = realloc(names, room * sizeof *names);
      if (!grown) abort();
      names = grown;
    }
    if (!(names[count++] = strdup(entry->d_name))) abort();
  }
  if (errno) failed = walk_failure("list");
  closedir(dir);
  qsort(names, count, sizeof *names, by_name);
  for (size_t i = 0; i < count; i++) {
    size_t name_length = strlen(names[i]);
    if (!failed && length + 1 + name_length >= sizeof walk_path) {
      errno = ENAMETOOLONG;
      failed = walk_failure("walk below");
    }
    if (!failed) {
      walk_path[length] = '/';
      memcpy(walk_path + length + 1, names[i], name_length + 1);
      struct stat st;
      if (lstat(walk_path, &st) != 0) failed = walk_failure("stat");
      else failed = walk_entry(&st);
      if (!failed && S_ISDIR(st.st_mode) && (st.st_dev == device || entered_anyway())) failed = walk_directory(length + 1 + name_length, st.st_dev);
    }
    free(names[i]);
  }
  free(names);
  walk_path[length] = 0;
  return failed;
}

static int walk(const char *root) {
  size_t length = strlen(root);
  while (length > 1 && root[length - 1] == '/') length--;
  if (length >= sizeof walk_path) return 2;
  memcpy(walk_path, root, length);
  walk_path[length] = 0;
  walk_root_length = length;
  struct stat st;
  if (stat(walk_path, &st) != 0) return walk_failure("stat");
  int failed = walk_directory(length, st.st_dev);
  return fflush(walk_out) == 0 && !failed ? 0 : 1;
}


/*
 * `init --serve [VOLUME...]`: the walk of / (one answer), which enters the mount points named
 * (the image's volumes: the engine copied the image's files there), then bytes of the regular
 * files asked for on stdin, in order, until stdin ends: a request is a path and "OFFSET LENGTH"
 * (a negative length: to the end), each NUL-terminated. Each answer is its size in decimal and
 * a newline, then that many bytes (fewer than asked at the end of the file); or "!" and why
 * not, and a newline.
 */
static void serve_refusal(const char *why) {
  printf("!%s\n", why);
  fflush(stdout);
}

/* Answers with `length` bytes of the file at `path` from `offset` (all of the rest when negative; fewer at its end). */
static int serve_file(const char *path, long long offset, long long length) {
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  const char *refused = fd < 0 || fstat(fd, &st) != 0 ? strerror(errno) : !S_ISREG(st.st_mode) ? "not a regular file" : NULL;
  if (refused) {
    serve_refusal(refused);
    if (fd >= 0) close(fd);
    return 0;
  }
  long long rest = offset < st.st_size ? (long long)st.st_size - offset : 0;
  off_t left = length < 0 || length > rest ? rest : length;
  printf("%lld\n", (long long)left);
  static char buffer[1 << 16];
  for (off_t at = offset; left > 0;) {
    ssize_t got = pread(fd, buffer, left < (off_t)sizeof buffer ? (size_t)left : sizeof buffer, at);
    if (got <= 0) {
      /* the answer promised those bytes: without them the stream cannot go on */
      fprintf(stderr, "slimify-init: cannot read %s: %s\n", path, got < 0 ? strerror(errno) : "it got shorter");
      close(fd);
      return 1;
    }
    fwrite(buffer, 1, (size_t)got, stdout);
    left -= got;
    at += got;
  }
  close(fd);
  return fflush(stdout) == 0 ? 0 : 1;
}

static int serve(char **volumes, int count) {
  walk_enter = volumes;
  walk_enter_count = count;
  char *listing = NULL;
  size_t size = 0;
  walk_out = open_memstream(&listing, &size);
  if (!walk_out) return 1;
  int failed = walk("/");
  if (fclose(walk_out) != 0 || failed) {
    serve_refusal("the walk of / failed");
    return 1;
  }
  printf("%zu\n", size);
  fwrite(listing, 1, size, stdout);
  free(listing);
  if (fflush(stdout) != 0) return 1;
  char *path = NULL, *range = NULL;
  size_t path_room = 0, range_room = 0;
  long long offset, length;
  while (getdelim(&path, &path_room, 0, stdin) > 0 && getdelim(&range, &range_room, 0, stdin) > 0) {
    if (sscanf(range, "%lld %lld", &offset, &length) != 2 || offset < 0) {
      fprintf(stderr, "slimify-init: not a range: %s\n", range);
      return 1;
    }
    if (serve_file(path, offset, length) != 0) return 1;
  }
  return 0;
}

static int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--clear") == 0) return clear(argv[2]);
  if (argc == 2 && strcmp(argv[1], "--pause") == 0) return pause_until_signal();
  if (argc == 3 && strcmp(argv[1], "--walk") == 0) return (walk_out = stdout, walk(argv[2]));
  if (argc >= 2 && strcmp(argv[1], "--serve") == 0) return serve(argv + 2, argc - 2);
  int hold = 0, untraced = 0;
  while (argc > 1 && strncmp(argv[1], "--", 2) == 0) {
    if (strcmp(argv[1], "--hold") == 0) hold = 1;
    else if (strcmp(argv[1], "--untraced") == 0) untraced = 1;
    else break;
    argv++;
    argc--;
  }
  if (argc < 2) {
    fprintf(stderr, "slimify-init: usage: init [--hold] [--untraced] COMMAND [ARGS...] | init --clear DIR | init --pause | init --walk DIR | init --serve [VOLUME...]\n");
    return 2;
  }
  sigset_t all, previous;
  take_all_signals(&all, &previous);

  pid_t tracer = fork();
  if (tracer < 0) {
    perror("slimify-init: fork");
    return 1;
  }
  if (tracer == 0) {
    for (int sig = 1; sig < NSIG; sig++) {
      if (sig == SIGKILL || sig == SIGSTOP) continue;
      signal(sig, SIG_DFL);
    }
    sigprocmask(SIG_SETMASK, &previous, NULL);
    execvp(argv[1], argv + 1);
    fprintf(stderr, "slimify-init: cannot start %s: %s\n", argv[1], strerror(errno));
    _exit(127);
  }

  /* untraced, the child is the app; traced, the app is the tracer's only child */
  pid_t app = untraced ? tracer : -1;
  int app_gone = 0, tracer_done = 0, status = 0, stop_requested = 0;
  for (;;) {
    siginfo_t info;
    struct timespec tick = {0, 100 * 1000 * 1000};
    int sig = sigtimedwait(&all, &info, &tick);
    int holding = hold && !stop_requested;
    if (!app_gone && !untraced) {
      if (app < 0) app = child_of(tracer);
      else if (!is_child(app, tracer)) app_gone = 1;
    }
    if (app_gone && !tracer_done && !holding && !untraced) kill_others(tracer);
    if (sig < 0 || sig == SIGCHLD) {
      int wstatus;
      pid_t pid;
      while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
        if (pid != tracer) continue;
        tracer_done = app_gone = 1;
        status = exit_status(wstatus);
      }
      if (tracer_done && !holding) return status;
      continue;
    }
    if (hold) stop_requested = 1;
    if (tracer_done) return status;
    if (app_gone) {
      /* the app is gone and a signal came: stop what is left, the tracer finishes and is reaped above */
      kill_others(tracer);
      continue;
    }
    if (app < 0) app = child_of(tracer);
    /* Before the app exists the tracer is the only one to tell. */
    kill(app > 0 ? app : tracer, sig);
  }
}
