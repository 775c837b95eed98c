#pragma once

#include "connectionsettings.h"
#include "result.h"

namespace Core {

class Project;

// CREATE / DROP DATABASE for a project's target, starting the local cluster first when
// the target is the local one.
class DatabaseAdmin
{
public:
    DatabaseAdmin(const Project *project, ConnectionSettings settings);

    // Starts the local cluster if the target is local; no-op otherwise.
    Status ensureServer();
    // Returns true when the database was created, false when it already existed.
    Result<bool> createDatabase();
    // Returns true when the database was dropped, false when it did not exist.
    Result<bool> dropDatabase();
    Result<bool> databaseExists();

    const ConnectionSettings &settings() const { return m_settings; }

private:
    const Project *m_project;
    ConnectionSettings m_settings;
};

} // namespace Core
