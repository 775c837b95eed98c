#include "rotatinglog.h"

#include <QDir>
#include <QFileInfo>

namespace Core {

RotatingLog::RotatingLog(QString path, qint64 maxBytes, int files)
    : m_path(std::move(path)), m_maxBytes(qMax<qint64>(1024, maxBytes)), m_files(qMax(1, files))
{
}

Status RotatingLog::open()
{
    if (m_file.isOpen())
        return {};
    QDir().mkpath(QFileInfo(m_path).absolutePath());
    m_file.setFileName(m_path);
    if (!m_file.open(QIODevice::WriteOnly | QIODevice::Append))
        return Error::io(u"cannot write log %1: %2"_qs.arg(m_path, m_file.errorString()));
    return {};
}

void RotatingLog::close()
{
    m_file.close();
}

void RotatingLog::rotate()
{
    m_file.close();
    QFile::remove(u"%1.%2"_qs.arg(m_path).arg(m_files - 1));
    for (int i = m_files - 2; i >= 1; --i)
        QFile::rename(u"%1.%2"_qs.arg(m_path).arg(i), u"%1.%2"_qs.arg(m_path).arg(i + 1));
    if (m_files > 1)
        QFile::rename(m_path, m_path + u".1"_qs);
    else
        QFile::remove(m_path);
    m_file.setFileName(m_path);
    (void)m_file.open(QIODevice::WriteOnly | QIODevice::Append);
}

void RotatingLog::append(const QByteArray &bytes)
{
    if (!m_file.isOpen() && !open())
        return;
    if (m_file.size() > 0 && m_file.size() + bytes.size() > m_maxBytes)
        rotate();
    m_file.write(bytes);
    m_file.flush(); // `pgext logs -f` and a crash must see every line
}

QStringList RotatingLog::files(const QString &path, int files)
{
    QStringList out;
    for (int i = files - 1; i >= 1; --i) {
        const QString f = u"%1.%2"_qs.arg(path).arg(i);
        if (QFileInfo::exists(f))
            out << f;
    }
    if (QFileInfo::exists(path))
        out << path;
    return out;
}

} // namespace Core
