/* Reads the small local files the resolver consults (resolv.conf, hosts) with
 * plain reads. Only regular files are read: a FIFO or device put in their
 * place could block the loop forever. */
#include "net/resolver.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <canto/error.h>

int canto__dns_read_file(const canto__alloc *a, const char *path, size_t max, char **out,
                         size_t *len)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return CANTO_ENOTFOUND;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return CANTO_EIO;
    }
    if ((unsigned long long)st.st_size > max) {
        close(fd);
        return CANTO_ETOOBIG;
    }
    /* One byte more than the file claims, so growth since fstat is noticed. */
    size_t cap = (size_t)st.st_size + 1;
    char *buf = canto__malloc(a, cap + 1);
    if (!buf) {
        close(fd);
        return CANTO_ENOMEM;
    }
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, cap - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            canto__dealloc(a, buf);
            close(fd);
            return CANTO_EIO;
        }
        if (n == 0)
            break;
        have += (size_t)n;
        if (have == cap) {
            canto__dealloc(a, buf);
            close(fd);
            return CANTO_ETOOBIG; /* grew while we read it: try next time */
        }
    }
    close(fd);
    buf[have] = '\0';
    *out = buf;
    *len = have;
    return 0;
}
