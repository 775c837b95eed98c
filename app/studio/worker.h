#pragma once

#include <QFutureWatcher>
#include <QObject>
#include <QtConcurrent/QtConcurrentRun>

#include <memory>
#include <optional>
#include <type_traits>

class QThreadPool;

namespace Studio {

// The pool every blocking core/ call (LocalCluster, PgConnection, Migrator, DevStack::prepare)
// runs on. Its own pool, not the global one: the global one has as many threads as cores (2
// here) and a slow cluster start must not hold up a migration plan.
QThreadPool *workerPool();

// Runs `work` on the worker pool and `done(result)` on `context`'s thread once it is finished.
// If `context` is destroyed first, `done` never runs (the watcher is its child).
template<typename Work, typename Done>
void runInWorker(QObject *context, Work work, Done done)
{
    using R = std::invoke_result_t<Work>;
    auto *watcher = new QFutureWatcher<void>(context);
    if constexpr (std::is_void_v<R>) {
        QObject::connect(watcher, &QFutureWatcherBase::finished, context, [watcher, done = std::move(done)]() mutable {
            watcher->deleteLater();
            done();
        });
        watcher->setFuture(QtConcurrent::run(workerPool(), std::move(work)));
    } else {
        // Core::Result<T> has no default constructor, which QFuture<T> would want.
        auto holder = std::make_shared<std::optional<R>>();
        QObject::connect(watcher, &QFutureWatcherBase::finished, context,
                         [watcher, holder, done = std::move(done)]() mutable {
                             watcher->deleteLater();
                             done(std::move(**holder));
                         });
        watcher->setFuture(QtConcurrent::run(workerPool(), [holder, work = std::move(work)]() mutable {
            holder->emplace(work());
        }));
    }
}

} // namespace Studio
