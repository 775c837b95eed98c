#pragma once

#include <QWizard>

class QComboBox;
class QLabel;
class QLineEdit;

namespace Studio {

// New Project: name, parent folder and template; creates the project with
// Core::Scaffold::initProject (in a worker) and hands its folder back.
class NewProjectWizard : public QWizard
{
    Q_OBJECT
public:
    explicit NewProjectWizard(QWidget *parent = nullptr);

    QString projectDirectory() const;
    QString projectName() const;
    QString templateName() const;

    void accept() override;

private:
    QLineEdit *m_name = nullptr;
    QLineEdit *m_folder = nullptr;
    QComboBox *m_template = nullptr;
    QLabel *m_target = nullptr;
    QLabel *m_error = nullptr;
    bool m_creating = false;
};

} // namespace Studio
