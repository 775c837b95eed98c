#pragma once

#include "result.h"

#include <QFile>
#include <QString>
#include <QStringList>

namespace Core {

// An append-only log file that rotates by size: <path> → <path>.1 → … → <path>.<files-1>,
// the oldest dropped. Used for the supervised services' output in .pgext/logs.
class RotatingLog
{
public:
    RotatingLog() = default;
    RotatingLog(QString path, qint64 maxBytes = 10 * 1024 * 1024, int files = 3);

    Status open();
    void append(const QByteArray &bytes);
    void close();
    const QString &path() const { return m_path; }

    // The existing files of a log, oldest first (what `pgext logs` prints).
    static QStringList files(const QString &path, int files = 3);

private:
    void rotate();

    QString m_path;
    qint64 m_maxBytes = 10 * 1024 * 1024;
    int m_files = 3;
    QFile m_file;
};

} // namespace Core
