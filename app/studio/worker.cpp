#include "worker.h"

#include <QThreadPool>

namespace Studio {

QThreadPool *workerPool()
{
    static QThreadPool *pool = [] {
        auto *p = new QThreadPool;
        p->setMaxThreadCount(8);
        p->setExpiryTimeout(30000);
        return p;
    }();
    return pool;
}

} // namespace Studio
