#include "logging.h"

Q_LOGGING_CATEGORY(lcCore, "pgext.core", QtWarningMsg)
Q_LOGGING_CATEGORY(lcPg, "pgext.core.pg", QtWarningMsg)
Q_LOGGING_CATEGORY(lcCluster, "pgext.core.cluster", QtWarningMsg)
Q_LOGGING_CATEGORY(lcMigrate, "pgext.core.migrate", QtWarningMsg)
