#include "studiosettings.h"

#include <QDir>
#include <QFileInfo>
#include <QFontDatabase>
#include <QSettings>

namespace Studio {

StudioSettings &StudioSettings::instance()
{
    static StudioSettings settings;
    return settings;
}

StudioSettings::StudioSettings()
{
    const QString file = qEnvironmentVariable("PGEXT_STUDIO_SETTINGS");
    if (!file.isEmpty())
        m_settings = std::make_unique<QSettings>(file, QSettings::IniFormat);
    else
        m_settings = std::make_unique<QSettings>(u"pgext"_qs, u"studio"_qs);
}

QByteArray StudioSettings::windowGeometry() const { return m_settings->value(u"window/geometry"_qs).toByteArray(); }
QByteArray StudioSettings::windowState() const { return m_settings->value(u"window/state"_qs).toByteArray(); }

void StudioSettings::setWindowLayout(const QByteArray &geometry, const QByteArray &state)
{
    m_settings->setValue(u"window/geometry"_qs, geometry);
    m_settings->setValue(u"window/state"_qs, state);
}

QStringList StudioSettings::recentProjects() const
{
    return m_settings->value(u"projects/recent"_qs).toStringList();
}

void StudioSettings::addRecentProject(const QString &root)
{
    const QString path = QDir::cleanPath(QFileInfo(root).absoluteFilePath());
    QStringList list = recentProjects();
    list.removeAll(path);
    list.prepend(path);
    while (list.size() > MaxRecent)
        list.removeLast();
    m_settings->setValue(u"projects/recent"_qs, list);
}

void StudioSettings::removeRecentProject(const QString &root)
{
    QStringList list = recentProjects();
    list.removeAll(root);
    m_settings->setValue(u"projects/recent"_qs, list);
}

QString StudioSettings::postgresBinDir() const { return m_settings->value(u"paths/postgresBinDir"_qs).toString(); }
void StudioSettings::setPostgresBinDir(const QString &dir) { m_settings->setValue(u"paths/postgresBinDir"_qs, dir); }
QString StudioSettings::postgrestBinary() const { return m_settings->value(u"paths/postgrest"_qs).toString(); }
void StudioSettings::setPostgrestBinary(const QString &path) { m_settings->setValue(u"paths/postgrest"_qs, path); }
QString StudioSettings::realtimeBinary() const { return m_settings->value(u"paths/realtime"_qs).toString(); }
void StudioSettings::setRealtimeBinary(const QString &path) { m_settings->setValue(u"paths/realtime"_qs, path); }

StudioSettings::Theme StudioSettings::theme() const
{
    return m_settings->value(u"ui/theme"_qs).toString() == u"dark"_qs ? Theme::Dark : Theme::Light;
}

void StudioSettings::setTheme(Theme theme)
{
    m_settings->setValue(u"ui/theme"_qs, theme == Theme::Dark ? u"dark"_qs : u"light"_qs);
}

QFont StudioSettings::editorFont() const
{
    QFont font = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    font.setPointSize(10);
    const QString stored = m_settings->value(u"editor/font"_qs).toString();
    if (!stored.isEmpty())
        font.fromString(stored);
    return font;
}

void StudioSettings::setEditorFont(const QFont &font) { m_settings->setValue(u"editor/font"_qs, font.toString()); }

void StudioSettings::applyEnvironment() const
{
    // core/'s PgBinaries honours [postgres] bin_dir first, then $PGEXT_PG_BINDIR: the studio
    // setting sits where a developer's shell variable would.
    const QString bin = postgresBinDir();
    if (!bin.isEmpty())
        qputenv("PGEXT_PG_BINDIR", bin.toLocal8Bit());
}

void StudioSettings::sync() { m_settings->sync(); }

} // namespace Studio
