#include "newprojectwizard.h"

#include "scaffold.h"
#include "worker.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpressionValidator>
#include <QToolButton>
#include <QVBoxLayout>

namespace Studio {

namespace {
QString describeTemplate(const QString &name)
{
    if (name == u"todo"_qs)
        return QObject::tr("A to-do app: tasks table with row-level security, login/sign-up functions, a realtime web frontend.");
    if (name == u"layered"_qs)
        return QObject::tr("Layered business functions: a store schema with customers and orders, audit log, API layer.");
    return {};
}
} // namespace

NewProjectWizard::NewProjectWizard(QWidget *parent) : QWizard(parent)
{
    setWindowTitle(tr("New Project"));
    setWizardStyle(QWizard::ClassicStyle);
    setOption(QWizard::NoBackButtonOnStartPage);
    auto *page = new QWizardPage(this);
    page->setTitle(tr("Create a pgext project"));
    page->setSubTitle(tr("A folder with pgext.toml, schema.sql, migrations/, functions/ and a frontend, "
                         "with fresh secrets in .env."));
    auto *form = new QFormLayout(page);
    m_name = new QLineEdit(page);
    m_name->setPlaceholderText(u"my-app"_qs);
    m_name->setValidator(new QRegularExpressionValidator(QRegularExpression(u"[a-z][a-z0-9_-]{0,62}"_qs), m_name));
    form->addRow(tr("Name"), m_name);
    auto *folderRow = new QWidget(page);
    auto *h = new QHBoxLayout(folderRow);
    h->setContentsMargins(0, 0, 0, 0);
    m_folder = new QLineEdit(QDir::homePath(), folderRow);
    auto *browse = new QToolButton(folderRow);
    browse->setText(tr("…"));
    h->addWidget(m_folder, 1);
    h->addWidget(browse);
    form->addRow(tr("Create in"), folderRow);
    m_template = new QComboBox(page);
    for (const QString &t : Core::Scaffold::templates())
        m_template->addItem(t, t);
    form->addRow(tr("Template"), m_template);
    auto *about = new QLabel(page);
    about->setWordWrap(true);
    form->addRow(QString(), about);
    m_target = new QLabel(page);
    m_target->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(tr("Folder"), m_target);
    m_error = new QLabel(page);
    m_error->setWordWrap(true);
    m_error->setStyleSheet(u"color: #d73a49"_qs);
    form->addRow(QString(), m_error);
    addPage(page);

    auto update = [this, about] {
        m_target->setText(projectDirectory());
        about->setText(describeTemplate(templateName()));
        m_error->clear();
    };
    connect(m_name, &QLineEdit::textChanged, this, update);
    connect(m_folder, &QLineEdit::textChanged, this, update);
    connect(m_template, &QComboBox::currentIndexChanged, this, update);
    connect(browse, &QToolButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Create the project in"), m_folder->text());
        if (!dir.isEmpty())
            m_folder->setText(dir);
    });
    update();
    resize(640, 420);
}

QString NewProjectWizard::projectName() const { return m_name->text().trimmed(); }
QString NewProjectWizard::templateName() const { return m_template->currentData().toString(); }

QString NewProjectWizard::projectDirectory() const
{
    const QString name = projectName();
    return name.isEmpty() ? QString() : QDir(m_folder->text()).filePath(name);
}

void NewProjectWizard::accept()
{
    if (m_creating)
        return;
    if (projectName().isEmpty()) {
        m_error->setText(tr("Give the project a name."));
        return;
    }
    m_creating = true;
    button(QWizard::FinishButton)->setEnabled(false);
    const QString dir = projectDirectory(), name = projectName(), templ = templateName();
    runInWorker(this, [dir, name, templ] { return Core::Scaffold::initProject(dir, name, templ); },
                [this](Core::Status s) {
                    m_creating = false;
                    button(QWizard::FinishButton)->setEnabled(true);
                    if (!s) {
                        m_error->setText(s.error().toString());
                        return;
                    }
                    QWizard::accept();
                });
}

} // namespace Studio
