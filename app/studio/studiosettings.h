#pragma once

#include <QByteArray>
#include <QFont>
#include <QString>
#include <QStringList>

#include <memory>

class QSettings;

namespace Studio {

// Typed access to the studio's QSettings (layout, recent projects, paths, theme, font).
// $PGEXT_STUDIO_SETTINGS names an ini file to use instead, so tests never touch the
// user's configuration.
class StudioSettings
{
public:
    static StudioSettings &instance();

    QByteArray windowGeometry() const;
    QByteArray windowState() const;
    void setWindowLayout(const QByteArray &geometry, const QByteArray &state);

    QStringList recentProjects() const;
    void addRecentProject(const QString &root);
    void removeRecentProject(const QString &root);

    QString postgresBinDir() const;     // empty: pgext's search ([postgres] bin_dir, pg_config, ...)
    void setPostgresBinDir(const QString &dir);
    QString postgrestBinary() const;    // empty: $PGEXT_POSTGREST, .deps/, $PATH
    void setPostgrestBinary(const QString &path);
    QString realtimeBinary() const;     // empty: next to the program, build tree, $PATH
    void setRealtimeBinary(const QString &path);

    enum class Theme { Light, Dark };
    Theme theme() const;
    void setTheme(Theme theme);

    QFont editorFont() const;
    void setEditorFont(const QFont &font);

    // Applies the paths to the process environment core/ reads ($PGEXT_PG_BINDIR).
    void applyEnvironment() const;
    void sync();

    static constexpr int MaxRecent = 10;

private:
    StudioSettings();
    std::unique_ptr<QSettings> m_settings;
};

} // namespace Studio
