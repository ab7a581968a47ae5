#include <canto/error.h>

const char *canto_strerror(int code)
{
    switch (code) {
    case CANTO_OK:
        return "success";
    case CANTO_EINVAL:
        return "invalid argument";
    case CANTO_ENOMEM:
        return "out of memory";
    case CANTO_EXML:
        return "XML is not well-formed";
    case CANTO_ERESTRICTED:
        return "XML construct not allowed in XMPP (DTD, comment, PI or entity)";
    case CANTO_ETOOBIG:
        return "size limit exceeded";
    case CANTO_ETOODEEP:
        return "element nesting limit exceeded";
    case CANTO_EUTF8:
        return "invalid UTF-8";
    case CANTO_EJID_LOCAL:
        return "invalid JID localpart";
    case CANTO_EJID_DOMAIN:
        return "invalid JID domainpart";
    case CANTO_EJID_RESOURCE:
        return "invalid JID resourcepart";
    case CANTO_ENOTFOUND:
        return "not found";
    case CANTO_ESTATE:
        return "operation not allowed in the current state";
    case CANTO_EUNSUPPORTED:
        return "not supported";
    case CANTO_EENCODING:
        return "encoding other than UTF-8";
    case CANTO_ETIMEDOUT:
        return "timed out";
    case CANTO_ECANCELED:
        return "cancelled";
    case CANTO_ENOTCONN:
        return "not connected";
    case CANTO_EQUEUEFULL:
        return "send queue full";
    case CANTO_EDNS:
        return "DNS lookup failed";
    case CANTO_ECONNECT:
        return "connection failed";
    case CANTO_ETLS:
        return "TLS failure";
    case CANTO_ECERT:
        return "certificate verification failed";
    case CANTO_EAUTH:
        return "authentication failed";
    case CANTO_ESTREAM:
        return "stream error from peer";
    case CANTO_EIO:
        return "I/O error";
    case CANTO_EPROTO:
        return "protocol violation by peer";
    case CANTO_ECLOSED:
        return "stream closed";
    }
    return "unknown error";
}
