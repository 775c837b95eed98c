#include "projectsession.h"

#include "databaseadmin.h"
#include "localcluster.h"
#include "pgconnection.h"
#include "studiologging.h"
#include "studiosettings.h"
#include "worker.h"

#include <libpq-fe.h>

#include <QJsonDocument>
#include <QScopeGuard>
#include <variant>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QThreadPool>
#include <QTimer>

namespace Studio {

using Core::Error;
using Core::Status;

Core::Result<Core::Project> ProjectSession::load(const QString &root)
{
    return Core::Project::open(root);
}

ProjectSession::ProjectSession(Core::Project project, QObject *parent)
    : QObject(parent), m_project(std::move(project))
{
    auto settings = Core::ConnectionSettings::resolve(&m_project, {});
    if (settings)
        m_settings = *settings;
    else
        m_dbDetail = settings.error().headline();
    m_poll = new QTimer(this);
    m_poll->setInterval(3000);
    connect(m_poll, &QTimer::timeout, this, [this] {
        if (m_dbState != DbState::Starting && m_dbState != DbState::Stopping)
            refreshDatabaseState();
        pollLag();
    });
    m_poll->start();
    m_network = new QNetworkAccessManager(this);
}

ProjectSession::~ProjectSession()
{
    m_poll->stop();
    // Worker tasks post results to this object; let them finish before it goes.
    waitForWorkers();
    if (m_stack) {
        delete m_stack; // stops PostgREST and pg_events_ws (they also die with us: PDEATHSIG)
        m_stack = nullptr;
    }
}

void ProjectSession::waitForWorkers(int ms)
{
    workerPool()->waitForDone(ms);
}

QString ProjectSession::stateName(DbState state)
{
    switch (state) {
    case DbState::Unknown: return tr("checking…");
    case DbState::Stopped: return tr("stopped");
    case DbState::Starting: return tr("starting");
    case DbState::Running: return tr("healthy");
    case DbState::Stopping: return tr("stopping");
    case DbState::Failed: return tr("failed");
    }
    return {};
}

QString ProjectSession::logFile(const Core::Project &project, const QString &component)
{
    return Core::DevStack::logFile(project, component);
}

void ProjectSession::setDbState(DbState state, const QString &detail)
{
    const bool changed = state != m_dbState || detail != m_dbDetail;
    m_dbState = state;
    m_dbDetail = detail;
    if (state == DbState::Running)
        openConnections();
    else if (state == DbState::Stopped || state == DbState::Failed)
        closeConnections();
    if (changed)
        Q_EMIT databaseStateChanged(state);
}

// ---------------------------------------------------------------- database

void ProjectSession::refreshDatabaseState()
{
    if (m_settings.conninfo.isEmpty() && !m_settings.isLocalCluster())
        return;
    const Core::Project project = m_project;
    const Core::ConnectionSettings settings = m_settings;
    runInWorker(this, [project, settings]() -> std::pair<DbState, QString> {
        if (settings.isLocalCluster()) {
            auto cluster = Core::LocalCluster::forProject(project);
            if (!cluster)
                return {DbState::Failed, cluster.error().headline()};
            switch (cluster->state()) {
            case Core::LocalCluster::State::Running:
                return {DbState::Running, u"127.0.0.1:%1, pid %2"_qs.arg(cluster->options().port).arg(cluster->pid())};
            case Core::LocalCluster::State::NotInitialized:
                return {DbState::Stopped, tr("not created yet")};
            case Core::LocalCluster::State::Stopped:
                return {DbState::Stopped, u"127.0.0.1:%1"_qs.arg(cluster->options().port)};
            }
        }
        auto conn = Core::PgConnection::open(settings.conninfo, 3);
        if (!conn)
            return {DbState::Failed, conn.error().headline()};
        return {DbState::Running, settings.display};
    }, [this](std::pair<DbState, QString> r) {
        if (m_dbStarting || m_dbState == DbState::Starting || m_dbState == DbState::Stopping)
            return; // an action in flight owns the state
        // A running cluster whose database does not exist yet is still usable: whenDatabaseReady creates it.
        setDbState(r.first, r.second);
    });
}

void ProjectSession::startDatabase()
{
    whenDatabaseReady(this, [](const Status &) {});
}

void ProjectSession::whenDatabaseReady(QObject *context, std::function<void(const Status &)> then)
{
    if (m_dbState == DbState::Running && m_queryConn) {
        then({});
        return;
    }
    m_waiting.emplace_back(context, std::move(then));
    if (m_dbStarting)
        return;
    m_dbStarting = true;
    setDbState(DbState::Starting, tr("starting PostgreSQL…"));
    const Core::Project project = m_project;
    const Core::ConnectionSettings settings = m_settings;
    runInWorker(this, [project, settings]() -> Core::Result<QString> {
        Core::DatabaseAdmin admin(&project, settings);
        if (settings.isLocalCluster()) {
            // Starts the cluster (creating it on first use) and creates the database.
            auto created = admin.createDatabase();
            if (!created)
                return created.error();
            auto cluster = Core::LocalCluster::forProject(project);
            if (!cluster)
                return cluster.error();
            return u"127.0.0.1:%1, pid %2"_qs.arg(cluster->options().port).arg(cluster->pid());
        }
        auto conn = Core::PgConnection::open(settings.conninfo, 5);
        if (!conn)
            return conn.error();
        return settings.display;
    }, [this](Core::Result<QString> r) {
        m_dbStarting = false;
        m_connectionFailed.invalidate();
        if (r)
            setDbState(DbState::Running, *r);
        else
            setDbState(DbState::Failed, r.error().headline());
        auto waiting = std::move(m_waiting);
        m_waiting.clear();
        const Status status = r ? Status() : Status(r.error());
        for (auto &[ctx, fn] : waiting)
            if (ctx)
                fn(status);
    });
}

void ProjectSession::stopDatabase()
{
    if (!m_settings.isLocalCluster())
        return;
    closeConnections();
    setDbState(DbState::Stopping, tr("stopping PostgreSQL…"));
    const Core::Project project = m_project;
    runInWorker(this, [project]() -> Status {
        auto cluster = Core::LocalCluster::forProject(project);
        if (!cluster)
            return cluster.error();
        return cluster->stop();
    }, [this](Status s) {
        if (s)
            setDbState(DbState::Stopped, tr("stopped by the studio"));
        else
            setDbState(DbState::Failed, s.error().headline());
    });
}

void ProjectSession::openConnections()
{
    // After a failed connection, wait a little: a cluster without the database yet would
    // otherwise be retried at every state refresh. whenDatabaseReady() resets this.
    if (m_queryConn || (m_connectionFailed.isValid() && m_connectionFailed.elapsed() < 10000))
        return;
    m_queryConn = new Core::AsyncConnection(this);
    m_metaConn = new Core::AsyncConnection(this);
    for (Core::AsyncConnection *c : {m_queryConn, m_metaConn}) {
        auto drop = [this, c](const Error &e) {
            qCInfo(lcStudio) << "connection lost:" << e.headline();
            if (c == m_queryConn || c == m_metaConn) {
                m_connectionFailed.start();
                closeConnections();
                refreshDatabaseState();
            }
        };
        connect(c, &Core::AsyncConnection::disconnected, this, drop);
        connect(c, &Core::AsyncConnection::connectionFailed, this, drop);
        c->open(m_settings.conninfo);
    }
    connect(m_metaConn, &Core::AsyncConnection::connected, this, &ProjectSession::refreshCatalog);
}

void ProjectSession::closeConnections()
{
    for (Core::AsyncConnection *c : {m_queryConn, m_metaConn})
        if (c) {
            c->disconnect(this);
            c->deleteLater();
        }
    m_queryConn = m_metaConn = nullptr;
    if (m_queryRunning) {
        m_queryRunning = false;
        Q_EMIT queryStateChanged(false);
    }
}

// ---------------------------------------------------------------- queries

void ProjectSession::runQuery(const QString &sql, std::function<void(Core::AsyncReply &)> done)
{
    m_queryRunning = true;
    Q_EMIT queryStateChanged(true);
    whenDatabaseReady(this, [this, sql, done](const Status &s) {
        if (!s || !m_queryConn) {
            Core::AsyncReply reply;
            reply.error = s ? Error::make(Error::Kind::Connection, tr("the database is not running")) : s.error();
            m_queryRunning = false;
            Q_EMIT queryStateChanged(false);
            done(reply);
            return;
        }
        m_queryConn->query(sql, [this, done](Core::AsyncReply &reply) {
            m_queryRunning = false;
            Q_EMIT queryStateChanged(false);
            done(reply);
        });
    });
}

void ProjectSession::cancelQuery()
{
    if (m_queryConn && m_queryRunning)
        m_queryConn->cancel();
}

// ---------------------------------------------------------------- catalog

void ProjectSession::refreshCatalog()
{
    if (!m_metaConn)
        return;
    static const QString sql = uR"(
WITH n AS (SELECT oid, nspname FROM pg_namespace
           WHERE nspname !~ '^pg_' AND nspname <> 'information_schema')
SELECT 's', nspname, NULL, NULL FROM n
UNION ALL
SELECT 't', n.nspname, c.relname, NULL FROM pg_class c JOIN n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f')
UNION ALL
SELECT 'c', n.nspname, c.relname, a.attname FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid JOIN n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'f', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid) FROM pg_proc p
  JOIN n ON n.oid = p.pronamespace
)"_qs;
    m_metaConn->query(sql, [this](Core::AsyncReply &reply) {
        if (reply.error || reply.results.empty()) {
            qCInfo(lcStudio) << "catalog:" << (reply.error ? reply.error->headline() : u"no result"_qs);
            return;
        }
        const Core::PgResult &r = reply.results.back();
        QSet<QString> words;
        for (int i = 0; i < r.rows(); ++i) {
            const QString kind = r.value(i, 0), schema = r.value(i, 1), name = r.value(i, 2), extra = r.value(i, 3);
            const bool visible = schema == u"public"_qs;
            if (kind == u"s"_qs) {
                words << schema;
            } else if (kind == u"t"_qs) {
                words << schema + u'.' + name;
                if (visible)
                    words << name;
            } else if (kind == u"c"_qs) {
                words << name + u'.' + extra << extra;
            } else if (kind == u"f"_qs) {
                const QString call = name + u'(' + extra + u')';
                words << schema + u'.' + call;
                if (visible)
                    words << call;
            }
        }
        QStringList list(words.begin(), words.end());
        list.sort(Qt::CaseInsensitive);
        m_catalogWords = list;
        Q_EMIT catalogChanged(m_catalogWords);
    });
}

// ---------------------------------------------------------------- migrations

void ProjectSession::refreshPlan()
{
    const Core::Project project = m_project;
    const Core::ConnectionSettings settings = m_settings;
    const bool running = m_dbState == DbState::Running;
    runInWorker(this, [project, settings, running]() -> Core::Result<Core::MigrationPlan> {
        if (!running) {
            // No database to compare with: every file is pending, as far as we can tell.
            auto files = project.migrationFiles();
            if (!files)
                return files.error();
            Core::MigrationPlan plan;
            for (const Core::MigrationFile &f : *files) {
                Core::MigrationState st;
                st.state = Core::MigrationState::State::Pending;
                st.kind = f.kind;
                st.path = f.path;
                st.version = f.version;
                st.checksum = f.checksum;
                plan.states.push_back(st);
                plan.toApply.push_back(f);
            }
            return plan;
        }
        auto conn = Core::PgConnection::open(settings.conninfo, 5);
        if (!conn)
            return conn.error();
        Core::Migrator migrator(*conn, project);
        return migrator.plan({});
    }, [this](Core::Result<Core::MigrationPlan> plan) {
        if (!plan) {
            Q_EMIT planFailed(plan.error());
            return;
        }
        m_plan = *plan;
        Q_EMIT planReady(*m_plan);
    });
}

void ProjectSession::applyMigrations(bool dryRun)
{
    if (m_migrating)
        return;
    m_migrating = true;
    Q_EMIT migrationStarted(dryRun);
    m_cancel = std::make_shared<CancelSlot>();
    whenDatabaseReady(this, [this, dryRun](const Status &ready) {
        if (!ready) {
            m_migrating = false;
            Q_EMIT migrationsFailed(ready.error());
            return;
        }
        const Core::Project project = m_project;
        const Core::ConnectionSettings settings = m_settings;
        auto cancel = m_cancel;
        QPointer<ProjectSession> self(this);
        // Progress lines come from the worker; queue them to this thread.
        auto progress = [this](const QString &line) {
            QMetaObject::invokeMethod(this, [this, line] { Q_EMIT migrationProgress(line); }, Qt::QueuedConnection);
        };
        Core::DevStack *stack = (m_phase == StackPhase::Running && !dryRun) ? m_stack : nullptr;
        runInWorker(this, [project, settings, dryRun, cancel, progress, stack]() -> Core::Result<std::variant<Core::Migrator::Report, Core::MigrationPlan>> {
            if (stack) {
                // Services are running: DevStack also re-tracks tables and reloads PostgREST.
                auto report = stack->reapply();
                if (!report)
                    return report.error();
                return std::variant<Core::Migrator::Report, Core::MigrationPlan>(*report);
            }
            auto conn = Core::PgConnection::open(settings.conninfo, 10);
            if (!conn)
                return conn.error();
            {
                std::lock_guard lock(cancel->mutex);
                if (cancel->cancelled)
                    return Error::make(Error::Kind::Cancelled, tr("cancelled"));
                cancel->handle = PQgetCancel(conn->handle());
            }
            auto release = qScopeGuard([cancel] {
                std::lock_guard lock(cancel->mutex);
                PQfreeCancel(cancel->handle);
                cancel->handle = nullptr;
            });
            Core::Migrator migrator(*conn, project);
            Core::Migrator::Options options;
            options.dryRun = dryRun;
            options.progress = progress;
            if (dryRun) {
                auto plan = migrator.plan(options);
                if (!plan)
                    return plan.error();
                if (plan->problem)
                    return *plan->problem;
                return std::variant<Core::Migrator::Report, Core::MigrationPlan>(*plan);
            }
            auto report = migrator.migrate(options);
            if (!report) {
                Error e = report.error();
                std::lock_guard lock(cancel->mutex);
                if (cancel->cancelled && e.sqlState == u"57014"_qs)
                    e.kind = Error::Kind::Cancelled;
                return e;
            }
            return std::variant<Core::Migrator::Report, Core::MigrationPlan>(*report);
        }, [this](Core::Result<std::variant<Core::Migrator::Report, Core::MigrationPlan>> r) {
            m_migrating = false;
            if (!r) {
                Q_EMIT migrationsFailed(r.error());
            } else if (auto *report = std::get_if<Core::Migrator::Report>(&*r)) {
                Q_EMIT migrationsApplied(*report);
                refreshCatalog();
            } else {
                Q_EMIT dryRunReady(std::get<Core::MigrationPlan>(*r));
            }
            refreshPlan();
        });
    });
}

void ProjectSession::cancelMigrations()
{
    auto cancel = m_cancel;
    if (!m_migrating || !cancel)
        return;
    // PQcancel connects to the server and waits: off the GUI thread.
    runInWorker(this, [cancel] {
        std::lock_guard lock(cancel->mutex);
        cancel->cancelled = true;
        if (cancel->handle) {
            char err[256];
            PQcancel(cancel->handle, err, sizeof err);
        }
    }, [] {});
}

// ---------------------------------------------------------------- services

Core::Service *ProjectSession::service(const QString &name) const
{
    if (!m_stack || !m_stack->supervisor())
        return nullptr;
    return m_stack->supervisor()->service(name);
}

bool ProjectSession::isAllHealthy() const
{
    return m_phase == StackPhase::Running && m_dbState == DbState::Running && m_stack && m_stack->supervisor()
           && m_stack->supervisor()->isAllHealthy();
}

void ProjectSession::setPhase(StackPhase phase)
{
    if (m_phase == phase)
        return;
    m_phase = phase;
    Q_EMIT stackPhaseChanged(phase);
    Q_EMIT serviceStateChanged(u"postgrest"_qs);
    Q_EMIT serviceStateChanged(u"realtime"_qs);
}

void ProjectSession::relay(const QString &service, const QString &line)
{
    Q_EMIT serviceLog(service, line);
}

void ProjectSession::startServices()
{
    if (m_stack || m_migrating)
        return;
    const StudioSettings &settings = StudioSettings::instance();
    Core::DevStack::Options options;
    options.postgrestBinary = settings.postgrestBinary();
    options.realtimeBinary = settings.realtimeBinary();
    options.progress = [this](const QString &line) {
        QMetaObject::invokeMethod(this, [this, line] { relay(u"pgext"_qs, line); }, Qt::QueuedConnection);
    };
    m_stack = new Core::DevStack(m_project, options, this);
    m_stopAfterPrepare = false;
    connect(m_stack, &Core::DevStack::logLine, this, &ProjectSession::relay);
    connect(m_stack, &Core::DevStack::ready, this, [this] {
        setPhase(StackPhase::Running);
        relay(u"pgext"_qs, tr("all services healthy (%1 ms from start)").arg(m_stack->timings().totalMs));
        Q_EMIT servicesReady();
    });
    connect(m_stack, &Core::DevStack::failed, this, [this](const Error &e) {
        relay(u"pgext"_qs, e.toString());
        Q_EMIT servicesFailed(e);
    });
    setPhase(StackPhase::Preparing);
    if (m_dbState != DbState::Running)
        setDbState(DbState::Starting, tr("starting PostgreSQL…"));
    m_dbStarting = true;
    Core::DevStack *stack = m_stack;
    relay(u"pgext"_qs, tr("preparing %1: cluster, database, extensions, migrations…").arg(name()));
    runInWorker(this, [stack] { return stack->prepare(); }, [this, stack](Status s) {
        m_dbStarting = false;
        if (!s) {
            relay(u"pgext"_qs, s.error().toString());
            teardownStack();
            const bool stopDatabase = m_stopAfterPrepare && m_stopDatabaseAfter;
            m_stopAfterPrepare = false;
            if (stopDatabase)
                this->stopDatabase();
            else
                refreshDatabaseState();
            if (s.error().kind != Error::Kind::Cancelled)
                Q_EMIT servicesFailed(s.error());
            return;
        }
        setDbState(DbState::Running, stack->databaseUrl());
        if (m_stopAfterPrepare) {
            teardownStack();
            if (m_stopDatabaseAfter)
                stopDatabase();
            return;
        }
        if (Status started = stack->startServices(); !started) {
            relay(u"pgext"_qs, started.error().toString());
            teardownStack();
            Q_EMIT servicesFailed(started.error());
            return;
        }
        setPhase(StackPhase::Starting);
        connect(stack->supervisor(), &Core::ServiceSupervisor::serviceStateChanged, this,
                [this](const QString &name, Core::Service::State) { Q_EMIT serviceStateChanged(name); });
        connect(stack->supervisor(), &Core::ServiceSupervisor::serviceFailed, this,
                [this](const QString &name, const Error &e, int restartInMs) {
                    relay(name, tr("failed: %1 (restarting in %2 ms)").arg(e.headline()).arg(restartInMs));
                });
        Q_EMIT serviceStateChanged(u"postgrest"_qs);
        Q_EMIT serviceStateChanged(u"realtime"_qs);
        refreshCatalog();
        refreshPlan();
    });
}

void ProjectSession::teardownStack()
{
    if (!m_stack)
        return;
    Core::DevStack *stack = m_stack;
    m_stack = nullptr;
    stack->disconnect(this);
    stack->stop(); // the services are stopped already (or never started): only releases the lock
    stack->deleteLater();
    setPhase(StackPhase::Off);
}

void ProjectSession::stopServices(bool database)
{
    // Stopping what the studio started includes the cluster it started.
    if (m_stack && m_stack->startedCluster())
        database = true;
    m_stopDatabaseAfter = database;
    if (m_phase == StackPhase::Preparing) {
        // prepare() runs on a worker: ask it to stop at its next step, and tear down when
        // it comes back (cancelled, or done if it was past the last step).
        m_stopAfterPrepare = true;
        if (m_stack)
            m_stack->requestCancel();
        return;
    }
    if (!m_stack || !m_stack->supervisor()) {
        teardownStack();
        if (database)
            stopDatabase();
        return;
    }
    setPhase(StackPhase::Stopping);
    Core::ServiceSupervisor *supervisor = m_stack->supervisor();
    relay(u"pgext"_qs, tr("stopping services…"));
    connect(supervisor, &Core::ServiceSupervisor::stopped, this, [this, database] {
        relay(u"pgext"_qs, tr("services stopped"));
        teardownStack();
        if (database)
            stopDatabase();
    }, Qt::SingleShotConnection);
    supervisor->stopAll(); // asynchronous: SIGTERM, SIGKILL after a timeout, stopped() when all are gone
}

void ProjectSession::startService(const QString &name)
{
    if (name == u"postgres"_qs) {
        startDatabase();
        return;
    }
    Core::Service *s = service(name);
    if (!s) {
        startServices();
        return;
    }
    if (s->state() == Core::Service::State::Stopped || s->state() == Core::Service::State::Failed)
        if (Status st = s->start(); !st)
            relay(name, st.error().toString());
}

void ProjectSession::stopService(const QString &name)
{
    if (name == u"postgres"_qs) {
        stopServices(true); // PostgREST and pg_events_ws cannot live without it
        return;
    }
    if (Core::Service *s = service(name))
        s->stop();
}

void ProjectSession::restartService(const QString &name)
{
    if (name == u"postgres"_qs) {
        const bool services = m_stack != nullptr;
        stopServices(true);
        auto conn = std::make_shared<QMetaObject::Connection>();
        *conn = connect(this, &ProjectSession::databaseStateChanged, this, [this, conn, services](DbState st) {
            if (st != DbState::Stopped && st != DbState::Failed)
                return;
            disconnect(*conn);
            if (services)
                startServices();
            else
                startDatabase();
        });
        return;
    }
    Core::Service *s = service(name);
    if (!s)
        return;
    if (s->state() == Core::Service::State::Stopped) {
        startService(name);
        return;
    }
    connect(s, &Core::Service::stateChanged, this, [this, name](Core::Service::State st) {
        if (st == Core::Service::State::Stopped)
            startService(name);
    }, Qt::SingleShotConnection);
    s->stop();
}

void ProjectSession::pollLag()
{
    if (Core::Service *rt = service(u"realtime"_qs); rt && rt->state() == Core::Service::State::Healthy) {
        QNetworkRequest request(QUrl(u"http://127.0.0.1:%1/health"_qs.arg(m_project.manifest().realtimePort)));
        request.setTransferTimeout(2000);
        QNetworkReply *reply = m_network->get(request);
        connect(reply, &QNetworkReply::finished, this, [this, reply] {
            reply->deleteLater();
            const QJsonObject o = QJsonDocument::fromJson(reply->readAll()).object();
            const qint64 lag = o.contains(u"lag_bytes"_qs) ? qint64(o.value(u"lag_bytes"_qs).toDouble()) : -1;
            if (lag != m_lag) {
                m_lag = lag;
                Q_EMIT lagChanged(lag);
            }
        });
        return;
    }
    if (!m_metaConn || m_metaConn->state() != Core::AsyncConnection::State::Ready) {
        if (m_lag != -1) {
            m_lag = -1;
            Q_EMIT lagChanged(-1);
        }
        return;
    }
    // The realtime slot's lag when pg_events_ws is not running (what it will have to catch up).
    m_metaConn->query(u"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint "
                      "FROM pg_replication_slots WHERE slot_name = $1"_qs,
                      {Core::DevStack::slotName(m_project)}, [this](Core::AsyncReply &reply) {
                          qint64 lag = -1;
                          if (!reply.error && !reply.results.empty() && reply.results.back().rows() > 0
                              && !reply.results.back().isNull(0, 0))
                              lag = reply.results.back().value(0, 0).toLongLong();
                          if (lag != m_lag) {
                              m_lag = lag;
                              Q_EMIT lagChanged(lag);
                          }
                      });
}

} // namespace Studio
