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
 * `init --capabilities` runs on the host, not in a container: for each NUL-terminated path read
 * from stdin that has file capabilities (the security.capability xattr, the one xattr
 * `docker export` carries), it writes the value in hex, a tab, the path and a NUL. Node has no
 * call for extended attributes.
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

static int pause_until_signal(void) {
  sigset_t all;
  sigfillset(&all);
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    signal(sig, on_signal);
  }
  sigprocmask(SIG_BLOCK, &all, NULL);
  for (;;) {
    int sig = sigwaitinfo(&all, NULL);
    if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT) return 0;
  }
}

static int print_capabilities(void) {
  char *path = NULL;
  size_t room = 0;
  unsigned char value[1024];
  ssize_t length;
  while ((length = getdelim(&path, &room, '\0', stdin)) > 0) {
    if (path[length - 1] != '\0') break; /* a last path without its NUL: input cut short */
    ssize_t size = lgetxattr(path, "security.capability", value, sizeof value);
    if (size < 0) continue;
    for (ssize_t i = 0; i < size; i++) printf("%02x", value[i]);
    printf("\t%s%c", path, 0);
  }
  free(path);
  return fflush(stdout) == 0 && !ferror(stdin) ? 0 : 1;
}

static int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--clear") == 0) return clear(argv[2]);
  if (argc == 2 && strcmp(argv[1], "--pause") == 0) return pause_until_signal();
  if (argc == 2 && strcmp(argv[1], "--capabilities") == 0) return print_capabilities();
  int hold = 0, untraced = 0;
  while (argc > 1 && strncmp(argv[1], "--", 2) == 0) {
    if (strcmp(argv[1], "--hold") == 0) hold = 1;
    else if (strcmp(argv[1], "--untraced") == 0) untraced = 1;
    else break;
    argv++;
    argc--;
  }
  if (argc < 2) {
    fprintf(stderr, "slimify-init: usage: init [--hold] [--untraced] COMMAND [ARGS...] | init --clear DIR | init --pause | init --capabilities\n");
    return 2;
  }
  sigset_t all, previous;
  sigfillset(&all);
  /* A pid namespace's init only receives signals it handles, so handle them all, then wait synchronously. */
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    signal(sig, on_signal);
  }
  sigprocmask(SIG_BLOCK, &all, &previous);

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
