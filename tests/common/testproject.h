#pragma once

#include "project.h"

#include <QTemporaryDir>

#include <memory>

// A pgext project folder on disk for tests: pgext.toml plus whatever files a test writes.
class TestProject
{
public:
    explicit TestProject(const QString &name = u"demo"_qs, int port = 54999, const QString &extraToml = {});

    QString root() const { return m_dir->path(); }
    QString path(const QString &relative) const;
    void write(const QString &relative, const QString &content);
    void write(const QString &relative, const QByteArray &content);
    void remove(const QString &relative);
    Core::Project open() const;

private:
    std::unique_ptr<QTemporaryDir> m_dir;
};
