#include "settingsdialog.h"

#include "devstack.h"
#include "pgbinaries.h"
#include "studiosettings.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFontComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

namespace Studio {

SettingsDialog::SettingsDialog(QWidget *parent) : QDialog(parent)
{
    setWindowTitle(tr("Settings"));
    setMinimumWidth(620);
    const StudioSettings &s = StudioSettings::instance();
    auto *layout = new QVBoxLayout(this);

    auto *paths = new QGroupBox(tr("Programs"), this);
    m_form = new QFormLayout(paths);
    // Placeholders show what pgext finds on its own (cheap lookups: no process is started).
    auto pg = Core::DevStack::findPostgrest();
    auto rt = Core::DevStack::findRealtime();
    m_pgBin = pathRow(s.postgresBinDir(), tr("automatic: [postgres] bin_dir, $PGEXT_PG_BINDIR, pg_config, /usr/lib/postgresql/*/bin"), true);
    m_form->addRow(tr("PostgreSQL programs folder"), m_pgBin->parentWidget());
    m_postgrest = pathRow(s.postgrestBinary(), pg ? tr("automatic: %1").arg(*pg) : tr("automatic: $PGEXT_POSTGREST, .deps/, $PATH"), false);
    m_form->addRow(tr("PostgREST"), m_postgrest->parentWidget());
    m_realtime = pathRow(s.realtimeBinary(), rt ? tr("automatic: %1").arg(*rt) : tr("automatic: next to the studio, build tree, $PATH"), false);
    m_form->addRow(tr("pg_events_ws"), m_realtime->parentWidget());
    layout->addWidget(paths);

    auto *look = new QGroupBox(tr("Appearance"), this);
    auto *lookForm = new QFormLayout(look);
    m_theme = new QComboBox(look);
    m_theme->addItem(tr("Light"), u"light"_qs);
    m_theme->addItem(tr("Dark"), u"dark"_qs);
    m_theme->setCurrentIndex(s.theme() == StudioSettings::Theme::Dark ? 1 : 0);
    lookForm->addRow(tr("Theme"), m_theme);
    auto *fontRow = new QWidget(look);
    auto *fontLayout = new QHBoxLayout(fontRow);
    fontLayout->setContentsMargins(0, 0, 0, 0);
    m_font = new QFontComboBox(fontRow);
    m_font->setFontFilters(QFontComboBox::MonospacedFonts);
    m_font->setCurrentFont(s.editorFont());
    m_fontSize = new QSpinBox(fontRow);
    m_fontSize->setRange(6, 40);
    m_fontSize->setValue(s.editorFont().pointSize());
    m_fontSize->setSuffix(tr(" pt"));
    fontLayout->addWidget(m_font, 1);
    fontLayout->addWidget(m_fontSize);
    lookForm->addRow(tr("Editor font"), fontRow);
    layout->addWidget(look);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, [this] {
        save();
        accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addStretch(1);
    layout->addWidget(buttons);
}

QLineEdit *SettingsDialog::pathRow(const QString &value, const QString &placeholder, bool directory)
{
    auto *row = new QWidget(this);
    auto *h = new QHBoxLayout(row);
    h->setContentsMargins(0, 0, 0, 0);
    auto *edit = new QLineEdit(value, row);
    edit->setPlaceholderText(placeholder);
    edit->setToolTip(placeholder);
    auto *browse = new QToolButton(row);
    browse->setText(tr("…"));
    h->addWidget(edit, 1);
    h->addWidget(browse);
    connect(browse, &QToolButton::clicked, this, [this, edit, directory] {
        const QString chosen = directory ? QFileDialog::getExistingDirectory(this, tr("Choose a folder"), edit->text())
                                         : QFileDialog::getOpenFileName(this, tr("Choose a program"), edit->text());
        if (!chosen.isEmpty())
            edit->setText(chosen);
    });
    return edit;
}

void SettingsDialog::save()
{
    StudioSettings &s = StudioSettings::instance();
    s.setPostgresBinDir(m_pgBin->text().trimmed());
    s.setPostgrestBinary(m_postgrest->text().trimmed());
    s.setRealtimeBinary(m_realtime->text().trimmed());
    s.setTheme(m_theme->currentData().toString() == u"dark"_qs ? StudioSettings::Theme::Dark : StudioSettings::Theme::Light);
    QFont f = m_font->currentFont();
    f.setPointSize(m_fontSize->value());
    s.setEditorFont(f);
    s.applyEnvironment();
    s.sync();
}

} // namespace Studio
