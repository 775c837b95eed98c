#pragma once

#include <QDialog>

class QComboBox;
class QFormLayout;
class QFontComboBox;
class QLineEdit;
class QSpinBox;

namespace Studio {

// Paths to PostgreSQL's programs, PostgREST and pg_events_ws; light/dark theme; editor font.
class SettingsDialog : public QDialog
{
    Q_OBJECT
public:
    explicit SettingsDialog(QWidget *parent = nullptr);

    void save();

private:
    QLineEdit *pathRow(const QString &value, const QString &placeholder, bool directory);

    QLineEdit *m_pgBin = nullptr;
    QLineEdit *m_postgrest = nullptr;
    QLineEdit *m_realtime = nullptr;
    QComboBox *m_theme = nullptr;
    QFontComboBox *m_font = nullptr;
    QSpinBox *m_fontSize = nullptr;
    QFormLayout *m_form = nullptr;
};

} // namespace Studio
