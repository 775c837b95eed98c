#pragma once

#include <QWidget>

class QCheckBox;
class QLabel;
class QLineEdit;

namespace Studio {

class SqlEditor;

// Find / replace under the editors (Ctrl+F, Ctrl+H), acting on the current editor.
class FindBar : public QWidget
{
    Q_OBJECT
public:
    explicit FindBar(QWidget *parent = nullptr);

    void setEditor(SqlEditor *editor);
    void showFind(bool withReplace);

    bool findNext(bool forward = true);
    void replaceOne();
    int replaceAll();

    QLineEdit *findEdit() const { return m_find; }
    QLineEdit *replaceEdit() const { return m_replace; }

protected:
    void keyPressEvent(QKeyEvent *event) override;

private:
    SqlEditor *m_editor = nullptr;
    QLineEdit *m_find = nullptr;
    QLineEdit *m_replace = nullptr;
    QList<QWidget *> m_replaceWidgets;
    QCheckBox *m_case = nullptr;
    QCheckBox *m_word = nullptr;
    QCheckBox *m_regex = nullptr;
    QLabel *m_status = nullptr;
};

} // namespace Studio
