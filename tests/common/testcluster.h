#pragma once

#include "localcluster.h"
#include "pgconnection.h"

#include <QTemporaryDir>

#include <memory>

// A throwaway PostgreSQL cluster for one test process, started through the same
// Core::LocalCluster code the CLI and studio use (as `postgres` when we are root).
class TestCluster
{
public:
    // Starts on first use; stops when the process exits.
    static TestCluster &instance();

    Core::LocalCluster &cluster() { return *m_cluster; }
    QString conninfo(const QString &database = u"postgres"_qs) const { return m_cluster->conninfo(database); }
    // Creates an empty database with a unique name; returns its name.
    QString freshDatabase(const QString &prefix = u"t"_qs);
    Core::PgConnection connect(const QString &database = u"postgres"_qs);

    // A temporary folder the cluster user can enter (QTemporaryDir makes 0700 ones).
    static std::unique_ptr<QTemporaryDir> makeSharedTempDir();

    ~TestCluster();

private:
    TestCluster();
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Core::LocalCluster> m_cluster;
    int m_counter = 0;
};
