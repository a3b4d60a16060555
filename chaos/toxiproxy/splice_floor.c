/* The least a proxy hop can cost: a blocking splice(2) forwarder in C, no API, no toxics.
 *
 * Used only by `python -m chaos.toxiproxy.splice_floor` as the reference a proxy cannot beat
 * on this machine: `splice_floor UPSTREAM_PORT` listens on an ephemeral loopback port, prints
 * it, and forwards every accepted connection to 127.0.0.1:UPSTREAM_PORT with two threads per
 * connection, each moving bytes socket -> pipe -> socket inside the kernel.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

enum { CHUNK = 262144 };

struct direction { int from, to; };

static void *pump(void *arg) {
    struct direction *d = arg;
    int pipe_fds[2];
    if (pipe(pipe_fds) == 0) {
        fcntl(pipe_fds[0], F_SETPIPE_SZ, CHUNK);
        ssize_t in;
        while ((in = splice(d->from, NULL, pipe_fds[1], NULL, CHUNK, SPLICE_F_MOVE)) > 0) {
            while (in > 0) {
                ssize_t out = splice(pipe_fds[0], NULL, d->to, NULL, (size_t)in, SPLICE_F_MOVE);
                if (out <= 0) goto done;
                in -= out;
            }
        }
    done:
        close(pipe_fds[0]);
        close(pipe_fds[1]);
    }
    shutdown(d->to, SHUT_WR);
    free(d);
    return NULL;
}

static void start_pump(int from, int to) {
    struct direction *d = malloc(sizeof *d);
    pthread_t thread;
    d->from = from;
    d->to = to;
    if (pthread_create(&thread, NULL, pump, d) == 0) pthread_detach(thread);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s UPSTREAM_PORT\n", argv[0]);
        return 2;
    }
    struct sockaddr_in listen_at = {.sin_family = AF_INET}, upstream;
    inet_pton(AF_INET, "127.0.0.1", &listen_at.sin_addr);
    upstream = listen_at;
    upstream.sin_port = htons((uint16_t)atoi(argv[1]));
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    socklen_t size = sizeof listen_at;
    if (bind(listener, (struct sockaddr *)&listen_at, size) || listen(listener, 128)
        || getsockname(listener, (struct sockaddr *)&listen_at, &size)) {
        perror("listen");
        return 1;
    }
    printf("%d\n", ntohs(listen_at.sin_port));
    fflush(stdout);
    for (;;) {
        int client = accept(listener, NULL, NULL);
        if (client < 0) continue;
        int server = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(server, (struct sockaddr *)&upstream, sizeof upstream) < 0) {
            close(client);
            close(server);
            continue;
        }
        start_pump(server, client);
        start_pump(client, server);
    }
}
